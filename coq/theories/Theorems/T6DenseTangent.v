(* T6 for every choice in dense networks, on tangent networks (THEORY.md
   section 8.1, "Open" (1); issue 18, item 2).  T6Tangent.v proves: for a
   batched tangent network whose tangent phi is linear, AD with choices that
   are theta-uniform per base neuron is linear with the same gradient.  Here
   theta is per copy (theta c), constrained only by the rows of the copies:
   - every base neuron k has a list P k of directions (its weights) that move
     no copy of a lower base neuron;
   - two kinked copies of one base neuron with the same coefficients in all
     directions P k (the same row) have the same theta.
   Proof: the induction of T6Tangent.v on the topmost base neuron m with a
   kinked copy.  Its kinks cancel by groups of equal tangent values
   (topmost_linear_iff_groups).  Moving along a weight direction p in P m
   shifts the tangent of copy c of m by t * A c p and nothing below m; a
   value of t avoiding finitely many points separates copies with different
   A c p.  By induction on the list P m, the kinks cancel within every class
   of copies with the same row and the same tangent value; so the network
   psi_R (output sum over a row class R of kappa_c y_c) is linear with
   gradient 0 and, by induction on m, so is its AD.  AD of the whole network
   is AD of the network with m's copies on their left slopes plus
   sum_R theta_R psi_R(v) = G . v. *)
From Coq Require Import Reals Lra Lia List Arith FunctionalExtensionality Classical.
From ADCorrect Require Import Vec Frechet Network AD Tangent T6Tangent.
Import ListNotations.
Open Scope R_scope.

Section DenseTangent.
Variables (base bias : nat -> nat) (P : nat -> list nat) (theta : nat -> R).

(** * Definitions *)

(* the directions P k move no copy of a base neuron below k *)
Definition dense_dirs (T : tnet) : Prop :=
  (forall k p c, In p (P k) -> (c < t_N T)%nat -> (base c < k)%nat -> t_A T c p = 0) /\
  (forall k p, In p (P k) -> (p < t_W T)%nat).

(* c has the same coefficients as c0 in the directions L *)
Fixpoint agreeb (A : nat -> nat -> R) (L : list nat) (c0 c : nat) : bool :=
  match L with
  | [] => true
  | p :: L' => if Req_EM_T (A c p) (A c0 p) then agreeb A L' c0 c else false
  end.

(* kinked copies of one base neuron with the same row have the same theta *)
Definition row_uniform (T : tnet) : Prop :=
  forall c c', (c < t_N T)%nat -> (c' < t_N T)%nat -> base c = base c' ->
    t_sl T c <> t_sr T c -> t_sl T c' <> t_sr T c' ->
    agreeb (t_A T) (P (base c)) c c' = true -> theta c = theta c'.

(* the choice slopes with theta per copy *)
Definition copy_slopes (T : tnet) (c : nat) : R := t_sl T c + theta c * (t_sr T c - t_sl T c).

(* the network with output sum_c kap_c y_c, the copies of m on their left slopes *)
Definition psi_w (T : tnet) (m : nat) (kap : nat -> R) : tnet :=
  mk_tnet (t_W T) (t_N T) (t_A T) (t_B T)
    (fun p => sumn (t_N T) (fun c => kap c * t_A T c p))
    (fun j => sumn (t_N T) (fun c => kap c * t_B T c j))
    (t_sl T) (fun c => if Nat.eq_dec (base c) m then t_sl T c else t_sr T c).

(** * Rows *)

Lemma agreeb_spec (A : nat -> nat -> R) (L : list nat) (c0 c : nat) :
  agreeb A L c0 c = true <-> forall p, In p L -> A c p = A c0 p.
Proof.
  induction L as [|p L IH]; simpl; [split; [tauto | reflexivity]|].
  destruct (Req_EM_T (A c p) (A c0 p)) as [He|Hne]; rewrite ?IH; split.
  - intros H q [<-|Hq]; [exact He | apply H, Hq].
  - intros H q Hq; apply H; right; exact Hq.
  - discriminate.
  - intros H; exfalso; apply Hne, H; left; reflexivity.
Qed.

Lemma agreeb_refl (A : nat -> nat -> R) (L : list nat) (c : nat) : agreeb A L c c = true.
Proof. apply agreeb_spec; reflexivity. Qed.

Lemma agreeb_sym (A : nat -> nat -> R) (L : list nat) (c c' : nat) :
  agreeb A L c c' = true -> agreeb A L c' c = true.
Proof. rewrite !agreeb_spec; intros H p Hp; symmetry; apply H, Hp. Qed.

Lemma agreeb_trans (A : nat -> nat -> R) (L : list nat) (c c' c'' : nat) :
  agreeb A L c c' = true -> agreeb A L c' c'' = true -> agreeb A L c c'' = true.
Proof. rewrite !agreeb_spec; intros H H' p Hp; rewrite H' by exact Hp; apply H, Hp. Qed.

(** * Sums over classes *)

Lemma sum_list_split_bool (g : nat -> R) (e : nat -> bool) (l : list nat) :
  sum_list (map g l) =
  sum_list (map (fun c => if e c then g c else 0) l) + sum_list (map g (filter (fun c => negb (e c)) l)).
Proof.
  induction l as [|c l IH]; [unfold sum_list; simpl; ring|]; simpl.
  destruct (e c); unfold sum_list in *; simpl; rewrite IH; ring.
Qed.

(* if the weights a sum to 0 over every class of an equivalence e, and f is
   constant on the non-zero weights of each class, sum_c f_c a_c = 0 *)
Lemma sum_classes_zero (e : nat -> nat -> bool) (a f : nat -> R) (l : list nat) :
  (forall c, e c c = true) -> (forall c c', e c c' = true -> e c' c = true) ->
  (forall c c' c'', e c c' = true -> e c' c'' = true -> e c c'' = true) ->
  (forall c c', In c l -> In c' l -> e c c' = true -> a c <> 0 -> a c' <> 0 -> f c = f c') ->
  (forall c0, In c0 l -> sum_list (map (fun c => if e c0 c then a c else 0) l) = 0) ->
  sum_list (map (fun c => f c * a c) l) = 0.
Proof.
  intros Hrefl Hsym Htrans.
  remember (length l) as n eqn:Hn; revert l Hn.
  induction n as [n IH] using lt_wf_ind; intros l Hn Hf Hcl.
  destruct l as [|c1 l']; [reflexivity|].
  set (l := c1 :: l') in *.
  rewrite (sum_list_split_bool _ (e c1)).
  (* the class of c1 *)
  assert (H1 : sum_list (map (fun c => if e c1 c then f c * a c else 0) l) = 0).
  { destruct (classic (exists cs, In cs l /\ e c1 cs = true /\ a cs <> 0)) as [[cs [Hcs [Hecs Hacs]]]|Hno].
    - rewrite (sum_list_map_ext _ (fun c => f cs * (if e c1 c then a c else 0))).
      + rewrite sum_list_scal, (Hcl c1 (or_introl eq_refl)); ring.
      + intros c Hc; destruct (e c1 c) eqn:Hec; [|ring].
        destruct (Req_dec (a c) 0) as [->|Hac]; [ring|].
        rewrite (Hf cs c Hcs Hc); [reflexivity | | exact Hacs | exact Hac].
        apply (Htrans _ c1); [apply Hsym, Hecs | exact Hec].
    - apply sum_list_map_zero; intros c Hc; destruct (e c1 c) eqn:Hec; [|reflexivity].
      destruct (Req_dec (a c) 0) as [->|Hac]; [ring|].
      exfalso; apply Hno; exists c; tauto. }
  rewrite H1, Rplus_0_l.
  set (l2 := filter (fun c => negb (e c1 c)) l).
  apply (IH (length l2)); [| reflexivity | |].
  - rewrite Hn; unfold l2, l; simpl; rewrite Hrefl; simpl.
    pose proof (filter_length_le (fun c => negb (e c1 c)) l'); lia.
  - intros c c' Hc Hc'; unfold l2 in Hc, Hc'; apply filter_In in Hc as [Hc _]; apply filter_In in Hc' as [Hc' _].
    apply Hf; assumption.
  - intros c0 Hc0; unfold l2 in Hc0 |- *; apply filter_In in Hc0 as [Hc0 Hn0].
    assert (Hs := sum_list_split_bool (fun c => if e c0 c then a c else 0) (e c1) l).
    rewrite (Hcl c0 Hc0) in Hs.
    rewrite (sum_list_map_zero (fun c => if e c1 c then (if e c0 c then a c else 0) else 0)) in Hs; [lra|].
    intros c _; destruct (e c1 c) eqn:H1c; [|reflexivity].
    destruct (e c0 c) eqn:H0c; [|reflexivity].
    exfalso; assert (Hx : e c1 c0 = true) by (apply (Htrans _ c); [exact H1c | apply Hsym, H0c]).
    rewrite Hx in Hn0; discriminate.
Qed.

(* a real avoiding finitely many values *)
Lemma avoid_values (n : nat) (f : nat -> R) : exists t, forall c, (c < n)%nat -> t <> f c.
Proof.
  exists (sumn n (fun i => Rabs (f i)) + 1); intros c Hc Heq.
  pose proof (sumn_abs_bound n f c Hc); pose proof (Rle_abs (f c)); lra.
Qed.

(** * Moving along a weight direction *)

Section Move.
Variables (T : tnet) (m p : nat).
Hypothesis HT : batched_tnet base bias T.
Hypothesis Hp : (p < t_W T)%nat.
Hypothesis Hlow : forall c, (c < t_N T)%nat -> (base c < m)%nat -> t_A T c p = 0.

Lemma dir_move (F : nat -> R -> R) (v : vec) (t : R) :
  forall c, (c < t_N T)%nat ->
    ((base c < m)%nat -> tz T F (vadd v (vscale t (unit_vec p))) c = tz T F v c) /\
    ((base c <= m)%nat -> ty T F (vadd v (vscale t (unit_vec p))) c = ty T F v c + t * t_A T c p).
Proof.
  intros c; induction c as [c IH] using lt_wf_ind; intros Hc.
  assert (Hy : (base c <= m)%nat ->
                ty T F (vadd v (vscale t (unit_vec p))) c = ty T F v c + t * t_A T c p).
  { intros Hb; unfold ty; rewrite sumn_shift_unit by exact Hp.
    rewrite (ty_lower_sum base bias T HT F F (vadd v (vscale t (unit_vec p))) v c Hc);
      [ring|intros i Hi Hbi; apply (IH i Hi); lia]. }
  split; [|exact Hy]; intros Hb.
  rewrite !tz_eq by exact Hc; rewrite Hy by lia; rewrite Hlow by assumption.
  f_equal; ring.
Qed.

End Move.

(** * Kinks cancel within every row class *)

Section Rows.
Variables (T : tnet) (m : nat) (F : nat -> R -> R) (kap : nat -> R).
Hypothesis HT : batched_tnet base bias T.
Hypothesis Hkap : forall c, (c < t_N T)%nat -> kap c <> 0 -> base c = m.
Hypothesis Hgroups : forall v, supported (t_W T) v -> forall tau,
  sumn (t_N T) (fun c => if Req_EM_T (ty T F v c) tau then kap c else 0) = 0.

Lemma rows_groups_cancel (L : list nat) :
  (forall p, In p L -> (p < t_W T)%nat) ->
  (forall p c, In p L -> (c < t_N T)%nat -> (base c < m)%nat -> t_A T c p = 0) ->
  forall c0 v, supported (t_W T) v -> forall tau,
    sumn (t_N T) (fun c => if Req_EM_T (ty T F v c) tau then (if agreeb (t_A T) L c0 c then kap c else 0) else 0) = 0.
Proof.
  induction L as [|p L IH]; intros HW H0 c0 v Hv tau.
  - simpl; apply Hgroups, Hv.
  - assert (HpW : (p < t_W T)%nat) by (apply HW; left; reflexivity).
    set (a := t_A T c0 p).
    destruct (avoid_values (t_N T) (fun c => (tau - ty T F v c) / (t_A T c p - a))) as [t Ht].
    set (v' := vadd v (vscale t (unit_vec p))).
    assert (Hv' : supported (t_W T) v')
      by (apply supported_vadd; [exact Hv | apply supported_vscale, supported_unit_vec, HpW]).
    etransitivity; [|exact (IH (fun q Hq => HW q (or_intror Hq)) (fun q c Hq => H0 q c (or_intror Hq)) c0 v' Hv' (tau + t * a))].
    apply sumn_ext; intros c Hc.
    destruct (Req_dec (kap c) 0) as [Hk|Hk].
    { rewrite Hk; repeat match goal with |- context [if ?b then _ else _] => destruct b end; reflexivity. }
    assert (Hm : base c = m) by exact (Hkap c Hc Hk).
    assert (Hmove : ty T F v' c = ty T F v c + t * t_A T c p).
    { apply (proj2 (dir_move T m p HT HpW (fun c Hc Hb => H0 p c (or_introl eq_refl) Hc Hb) F v t c Hc)); lia. }
    rewrite Hmove; simpl; fold a.
    destruct (Req_EM_T (t_A T c p) a) as [Ha|Ha].
    + rewrite Ha; destruct (Req_EM_T (ty T F v c) tau), (Req_EM_T (ty T F v c + t * a) (tau + t * a));
        try reflexivity; lra.
    + destruct (Req_EM_T (ty T F v c + t * t_A T c p) (tau + t * a)) as [He|He].
      * exfalso; apply (Ht c Hc); unfold Rdiv.
        replace (tau - ty T F v c) with (t * (t_A T c p - a)) by lra; field; lra.
      * destruct (Req_EM_T (ty T F v c) tau); reflexivity.
Qed.

(* the weighted tangents of every row class sum to 0 *)
Lemma rows_cancel (L : list nat) :
  (forall p, In p L -> (p < t_W T)%nat) ->
  (forall p c, In p L -> (c < t_N T)%nat -> (base c < m)%nat -> t_A T c p = 0) ->
  forall c0 v, supported (t_W T) v ->
    sumn (t_N T) (fun c => (if agreeb (t_A T) L c0 c then kap c else 0) * ty T F v c) = 0.
Proof.
  intros HW H0 c0 v Hv; unfold sumn.
  apply (sum_groups_zero (fun c => if agreeb (t_A T) L c0 c then kap c else 0) (fun c => ty T F v c) (fun x => x)).
  intros tau; exact (rows_groups_cancel L HW H0 c0 v Hv tau).
Qed.

End Rows.

(** * The induction *)

Lemma psi_w_tout (T : tnet) (m : nat) (kap : nat -> R) (F : nat -> R -> R) (v : vec) :
  batched_tnet base bias T ->
  tout (psi_w T m kap) F v = sumn (t_N T) (fun c => kap c * ty T F v c).
Proof.
  intros HT; rewrite <- (tout_weights base bias T HT); unfold tout; cbn [t_W t_N t_d t_g psi_w].
  change (tz (psi_w T m kap) F v) with (tz T F v); reflexivity.
Qed.

Lemma dense_dirs_left (T : tnet) (m : nat) : dense_dirs T -> dense_dirs (left_tnet base T m).
Proof. intros H; exact H. Qed.

Lemma dense_dirs_psi (T : tnet) (m : nat) kap : dense_dirs T -> dense_dirs (psi_w T m kap).
Proof. intros H; exact H. Qed.

Lemma batched_psi (T : tnet) (m : nat) kap : batched_tnet base bias T -> batched_tnet base bias (psi_w T m kap).
Proof. intros H; exact H. Qed.

Lemma row_uniform_left (T : tnet) (m : nat) : row_uniform T -> row_uniform (left_tnet base T m).
Proof.
  intros H c c' Hc Hc' Hb Hk Hk' Ha; unfold left_tnet in *; cbn [t_sl t_sr t_N t_A] in *.
  apply (H c c' Hc Hc' Hb); [| |exact Ha].
  - destruct (Nat.eq_dec (base c) m); [contradiction | exact Hk].
  - destruct (Nat.eq_dec (base c') m); [contradiction | exact Hk'].
Qed.

Lemma row_uniform_psi (T : tnet) (m : nat) kap : row_uniform T -> row_uniform (psi_w T m kap).
Proof.
  intros H c c' Hc Hc' Hb Hk Hk' Ha; unfold psi_w in *; cbn [t_sl t_sr t_N t_A] in *.
  apply (H c c' Hc Hc' Hb); [| |exact Ha].
  - destruct (Nat.eq_dec (base c) m); [contradiction | exact Hk].
  - destruct (Nat.eq_dec (base c') m); [contradiction | exact Hk'].
Qed.

Theorem dense_tangent_T6_below (m : nat) :
  forall T G, batched_tnet base bias T -> dense_dirs T -> row_uniform T ->
    (forall c, (c < t_N T)%nat -> t_sl T c <> t_sr T c -> (base c < m)%nat) ->
    tlinear T (hat T) G -> tlinear T (lin (copy_slopes T)) G.
Proof.
  induction m as [|m IH]; intros T G HT HD HU Hk Hlin.
  - intros v Hv; rewrite <- (Hlin v Hv); apply tout_ext; intros c t Hc.
    destruct (Req_dec (t_sl T c) (t_sr T c)) as [Heq|Hne]; [|specialize (Hk c Hc Hne); lia].
    unfold lin, copy_slopes; rewrite hat_same_linear, Heq by exact Heq; ring.
  - set (N := t_N T); set (W := t_W T).
    destruct (classic (exists c0, (c0 < N)%nat /\ base c0 = m)) as [[c0 [Hc0 Hm]]|Hno].
    2:{ apply (IH T G HT HD HU); [|exact Hlin].
        intros c Hc Hne; specialize (Hk c Hc Hne).
        destruct (Nat.eq_dec (base c) m); [exfalso; apply Hno; exists c; split; assumption | lia]. }
    set (TL := left_tnet base T m).
    set (FL := hat TL).
    assert (Hup : forall c, (c < N)%nat -> (m < base c)%nat -> t_sl T c = t_sr T c).
    { intros c Hc Hmc; destruct (Req_dec (t_sl T c) (t_sr T c)) as [|Hne]; [assumption|].
      specialize (Hk c Hc Hne); lia. }
    assert (Hagree : forall c t, (c < N)%nat -> (base c < m)%nat -> FL c t = hat T c t).
    { intros c t _ Hbc; unfold FL, hat, TL, left_tnet; cbn [t_sl t_sr].
      destruct (Nat.eq_dec (base c) m); [lia | reflexivity]. }
    assert (Hfacts := topmost_facts base bias T m c0 HT Hc0 Hm Hup G Hlin).
    assert (Hgroups := proj2 (proj1 (topmost_linear_iff_groups base bias T m c0 HT Hc0 Hm Hup G) Hlin)).
    assert (HkL : forall c, (c < N)%nat -> t_sl T c <> (if Nat.eq_dec (base c) m then t_sl T c else t_sr T c) ->
                    (base c < m)%nat).
    { intros c Hc Hne; destruct (Nat.eq_dec (base c) m); [contradiction|]; specialize (Hk c Hc Hne); lia. }
    assert (HlinL : tlinear TL (lin (copy_slopes TL)) G).
    { apply (IH TL G (left_tnet_batched base bias T m HT) (dense_dirs_left T m HD) (row_uniform_left T m HU) HkL).
      intros v Hv; exact (proj1 (Hfacts v Hv)). }
    (* the kappa of the copies of m vanish outside m *)
    assert (Hkap : forall c, (c < N)%nat -> kappa base T m c <> 0 -> base c = m).
    { intros c _ Hc; unfold kappa in Hc; destruct (Nat.eq_dec (base c) m); [assumption | lra]. }
    assert (HPW : forall p, In p (P m) -> (p < W)%nat) by (intros p Hp; apply (proj2 HD m p Hp)).
    assert (HP0 : forall p c, In p (P m) -> (c < N)%nat -> (base c < m)%nat -> t_A T c p = 0)
      by (intros p c Hp Hc Hb; apply (proj1 HD m p c Hp Hc Hb)).
    set (kapc := fun c0' c => if agreeb (t_A T) (P m) c0' c then kappa base T m c else 0).
    (* every row class: psi is linear with gradient 0, hence so is its AD *)
    assert (Hpsi : forall c0', tlinear (psi_w T m (kapc c0')) (lin (copy_slopes (psi_w T m (kapc c0')))) vzero).
    { intros c0'; apply (IH (psi_w T m (kapc c0')) vzero (batched_psi T m _ HT) (dense_dirs_psi T m _ HD)
                          (row_uniform_psi T m _ HU) HkL).
      intros v Hv; rewrite dot_vzero_l, psi_w_tout by exact HT.
      etransitivity; [|exact (rows_cancel T m (hat T) (kappa base T m) HT Hkap Hgroups (P m) HPW HP0 c0' v Hv)].
      apply sumn_ext; intros c Hc; unfold kapc; destruct (agreeb (t_A T) (P m) c0' c); [|ring].
      destruct (Req_dec (kappa base T m c) 0) as [->|Hne]; [ring|].
      change (hat (psi_w T m (fun c1 => if agreeb (t_A T) (P m) c0' c1 then kappa base T m c1 else 0))) with FL.
      rewrite (proj2 (lower_agree base bias T m HT FL (hat T) v Hagree c Hc)); [reflexivity|].
      rewrite (Hkap c Hc Hne); lia. }
    (* AD with the per-copy choices *)
    intros v Hv.
    set (x := copy_slopes T); set (xl := copy_slopes TL).
    assert (Hxl_up : forall c t', (c < N)%nat -> (m < base c)%nat -> lin xl c t' = t_sl T c * t').
    { intros c t' Hc Hmc; unfold lin, xl, copy_slopes, TL, left_tnet; cbn [t_sl t_sr].
      destruct (Nat.eq_dec (base c) m); [lia|]; rewrite <- (Hup c Hc Hmc); ring. }
    assert (Hxinj : forall xi, injF base (lin x) m xi = injF base (lin xl) m xi).
    { intros xi; apply functional_extensionality; intros c; apply functional_extensionality; intros t.
      unfold injF, lin, x, xl, copy_slopes, TL, left_tnet; cbn [t_sl t_sr];
        destruct (Nat.eq_dec (base c) m); reflexivity. }
    assert (Hxagree : forall c t, (c < N)%nat -> (base c < m)%nat -> lin x c t = lin xl c t).
    { intros c t _ Hbc; unfold lin, x, xl, copy_slopes, TL, left_tnet; cbn [t_sl t_sr].
      destruct (Nat.eq_dec (base c) m); [lia | reflexivity]. }
    assert (Hsup := superposition base bias T m HT c0 Hc0 Hm (lin xl)
                      (fun c => lin x c (ty T (lin x) v c)) (fun c => lin xl c (ty T (lin xl) v c)) v 0 Hxl_up).
    rewrite vscale_0_l, vadd_vzero_r, Rmult_0_l, Rplus_0_l in Hsup.
    rewrite <- Hxinj, !inject_actual_out in Hsup.
    rewrite (Lam_ext base T m _ (fun c => theta c * ((t_sr T c - t_sl T c) * ty T (lin xl) v c))) in Hsup.
    2:{ intros c Hc Hbc.
        rewrite (proj2 (lower_agree base bias T m HT (lin x) (lin xl) v Hxagree c Hc)) by lia.
        unfold lin, x, xl, copy_slopes, TL, left_tnet; cbn [t_sl t_sr].
        destruct (Nat.eq_dec (base c) m); [|contradiction]; ring. }
    rewrite (Lam_sum base bias T m HT _ c0 Hc0 Hm) in Hsup; cbv beta in Hsup; fold N in Hsup.
    assert (Hzero : sumn N (fun c => if Nat.eq_dec (base c) m
                                     then theta c * ((t_sr T c - t_sl T c) * ty T (lin xl) v c) * zeta base T m c
                                     else 0) = 0).
    { rewrite (sumn_ext N _ (fun c => theta c * (kappa base T m c * ty T (lin xl) v c))).
      2:{ intros c _; unfold kappa; destruct (Nat.eq_dec (base c) m); ring. }
      unfold sumn; apply (sum_classes_zero (agreeb (t_A T) (P m)) (fun c => kappa base T m c * ty T (lin xl) v c) theta).
      - apply agreeb_refl.
      - apply agreeb_sym.
      - apply agreeb_trans.
      - intros c c' Hc Hc' Hcc' Ha Ha'; apply in_seq in Hc; apply in_seq in Hc'.
        assert (Hkc : kappa base T m c <> 0) by (intros E; apply Ha; rewrite E; ring).
        assert (Hkc' : kappa base T m c' <> 0) by (intros E; apply Ha'; rewrite E; ring).
        assert (Hbc := Hkap c ltac:(lia) Hkc); assert (Hbc' := Hkap c' ltac:(lia) Hkc').
        apply (HU c c' ltac:(lia) ltac:(lia)); [congruence | | | rewrite Hbc; exact Hcc'].
        + intros E; apply Hkc; unfold kappa; destruct (Nat.eq_dec (base c) m); [rewrite E; ring | reflexivity].
        + intros E; apply Hkc'; unfold kappa; destruct (Nat.eq_dec (base c') m); [rewrite E; ring | reflexivity].
      - intros c0' _.
        assert (Hp := Hpsi c0' v Hv); rewrite dot_vzero_l, psi_w_tout in Hp by exact HT.
        etransitivity; [|exact Hp]; unfold sumn; apply sum_list_map_ext; intros c _; unfold kapc.
        change (copy_slopes (psi_w T m (fun c1 => if agreeb (t_A T) (P m) c0' c1 then kappa base T m c1 else 0)))
          with xl.
        destruct (agreeb (t_A T) (P m) c0' c); ring. }
    rewrite Hzero in Hsup.
    assert (HL := HlinL v Hv); change (tout T (lin xl) v = dot (t_W T) G v) in HL.
    change (tout T (lin x) v = dot (t_W T) G v); lra.
Qed.

(* T6 for per-copy choices that are uniform on the row classes *)
Theorem dense_tangent_T6 (T : tnet) (G : vec) :
  batched_tnet base bias T -> dense_dirs T -> row_uniform T ->
  tlinear T (hat T) G -> tlinear T (lin (copy_slopes T)) G.
Proof.
  intros HT HD HU; apply (dense_tangent_T6_below (S (list_max (map base (seq 0 (t_N T))))) T G HT HD HU).
  intros c Hc _; apply Nat.lt_succ_r.
  pose proof (proj1 (list_max_le (map base (seq 0 (t_N T))) _) (le_n _)) as H.
  rewrite Forall_forall in H; apply H, in_map, in_seq; lia.
Qed.

End DenseTangent.
