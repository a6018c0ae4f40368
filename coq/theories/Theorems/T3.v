(* T3 of THEORY.md section 5 (for bias networks: f is not differentiable at w
   iff NS(w), for every choice D), through T5(c) ("NS(w) implies not
   differentiable whenever the largest kink neuron with zbar_k <> 0 is
   perturbable at w"), proved as in section 6, "Topmost witness"
   (FORMAL_PLAN.md "The lemma chain", points 7-8).  Let k be the largest kink
   neuron with zbar_k <> 0 and p an exclusive parameter of k with
   coefficient alpha <> 0.  Along t -> w + t e_p, for t on one side of 0 the
   network agrees with selections f_s whose piece at k is the one on the side
   of y_k into which alpha t moves; above k the adjoints do not depend on the
   pieces (the kink neurons there have zero adjoint), so each such f_s has
   derivative zbar_k * slope * alpha along e_p.  The two sides give the
   right and the left slope of sigma_k at y_k, which differ. *)
From Coq Require Import Reals Lra Lia List Classical.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD NoKinkAD OneSided Selection
  SelectLocal T5b.
Import ListNotations.
Open Scope R_scope.

(** * Symbolic parameter derivatives are derivatives *)

Lemma occurs_neuron_dparam (p j : nat) (e : expr) :
  occurs_neuron j (dparam p e) -> occurs_neuron j e.
Proof. induction e; simpl; intuition. Qed.

Lemma eval_dparam_is_derive (x : nat -> R) (w : vec) (z : nat -> R) (e : expr) (p : nat) (t0 : R) :
  is_derive (fun t => eval x (upd w p t) z e) t0 (eval x (upd w p t0) z (dparam p e)).
Proof.
  induction e as [r0|q|i|j|e1 IH1 e2 IH2|e1 IH1 e2 IH2]; simpl.
  - apply is_derive_Reals, derivable_pt_lim_const.
  - destruct (Nat.eq_dec q p) as [->|Hne].
    + apply (is_derive_ext (fun t => t)); [intros t; symmetry; apply Vec.upd_same|].
      apply is_derive_Reals, derivable_pt_lim_id.
    + apply (is_derive_ext (fun _ => w q)); [intros t; symmetry; apply upd_other, Hne|].
      apply is_derive_Reals, derivable_pt_lim_const.
  - apply is_derive_Reals, derivable_pt_lim_const.
  - apply is_derive_Reals, derivable_pt_lim_const.
  - apply (is_derive_plus _ _ _ _ _ IH1 IH2).
  - apply (is_derive_mult _ _ _ _ _ IH1 IH2); intros; apply Rmult_comm.
Qed.

(* d tau_k / d w_p at w is the coefficient a_k(w) of an exclusive parameter *)
Lemma exclusive_dparam_coeff (net : network) (p k : nat) (a r : expr) (w : vec) :
  wf net -> exclusive_param_with net p k a r ->
  eval (n_input net) w (zvec net w) (dparam p (tau net k)) = excl_coeff net w k a.
Proof.
  intros Hwf He.
  assert (Hz : eval (n_input net) w (zvec net w) (dparam p (tau net k)) =
               eval (n_input net) w (zvals net w k) (dparam p (tau net k))).
  { apply eval_ext_neuron; intros j Hj; apply occurs_neuron_dparam in Hj.
    destruct He as (_ & Hk & _).
    destruct (proj1 Hwf k Hk) as [Hb _]; specialize (Hb j Hj).
    rewrite zvec_lt by lia; rewrite zvals_lt by exact Hb; reflexivity. }
  rewrite Hz.
  assert (H1 := eval_dparam_is_derive (n_input net) w (zvals net w k) (tau net k) p (w p)).
  rewrite Vec.upd_id in H1.
  assert (H2 : is_derive (fun t => eval (n_input net) (upd w p t) (zvals net w k) (tau net k)) (w p)
                 (excl_coeff net w k a)).
  { destruct He as (_ & _ & _ & _ & Ha & Hr & Heq).
    apply (is_derive_ext (fun t => excl_coeff net w k a * t + eval (n_input net) w (zvals net w k) r)).
    - intros t; rewrite Heq, !eval_upd_not_occurs by assumption.
      rewrite Vec.upd_same; reflexivity.
    - auto_derive; [exact I|ring]. }
  rewrite <- (is_derive_unique _ _ _ H1); exact (is_derive_unique _ _ _ H2).
Qed.

(** * One-sided derivatives of functions pointwise among finitely many *)

Lemma side_abs (side : R -> R -> Prop) (d t : R) :
  side = right_side \/ side = left_side -> side d t -> Rabs t < d.
Proof. intros [-> | ->]; unfold right_side, left_side; intros Ht; split_Rabs; lra. Qed.

Lemma side_mono_of (side : R -> R -> Prop) :
  side = right_side \/ side = left_side -> side_mono side.
Proof. intros [-> | ->]; [apply right_side_mono|apply left_side_mono]. Qed.

Lemma side_deriv_of_one_sided (side : R -> R -> Prop) (u : R -> R) (l : R) :
  side = right_side \/ side = left_side -> right_deriv u 0 l /\ left_deriv u 0 l ->
  side_deriv side u 0 l.
Proof. intros [-> | ->] [Hr Hl]; [exact Hr|exact Hl]. Qed.

Lemma side_deriv_uniform {A : Type} (side : R -> R -> Prop) (F : A -> R -> R) (P : A -> Prop)
    (ss : list A) (l : R) :
  side_mono side ->
  (forall s, In s ss -> P s -> side_deriv side (F s) 0 l) ->
  forall eps, 0 < eps -> exists delta, 0 < delta /\ forall s, In s ss -> P s ->
    forall t, side delta t -> Rabs ((F s (0 + t) - F s 0) / t - l) < eps.
Proof.
  intros Hm Hd eps Heps; induction ss as [|s0 ss IH].
  - exists 1; split; [lra | intros s []].
  - destruct IH as [d1 [Hd1 K1]]; [intros s Hs; apply Hd; now right|].
    destruct (classic (P s0)) as [HP|HnP].
    + destruct (Hd s0 (or_introl eq_refl) HP eps Heps) as [d0 [Hd0 K0]].
      exists (Rmin d0 d1); split; [now apply Rmin_glb_lt|].
      intros s [<-|Hs] HPs t Ht.
      * apply K0; exact (Hm _ _ _ (Rmin_l d0 d1) Ht).
      * apply K1; [exact Hs|exact HPs|exact (Hm _ _ _ (Rmin_r d0 d1) Ht)].
    + exists d1; split; [exact Hd1|]; intros s [<-|Hs] HPs t Ht; [contradiction|].
      apply K1; assumption.
Qed.

(* the one-sided analogue of the selection lemma, along a line *)
Lemma side_deriv_selection {A : Type} (side : R -> R -> Prop) (u : R -> R) (F : A -> R -> R)
    (P : A -> Prop) (ss : list A) (l d0 : R) :
  side_mono side -> 0 < d0 ->
  (forall s, In s ss -> P s -> side_deriv side (F s) 0 l) ->
  (forall s, In s ss -> P s -> F s 0 = u 0) ->
  (forall t, side d0 t -> exists s, In s ss /\ P s /\ u t = F s t) ->
  side_deriv side u 0 l.
Proof.
  intros Hm Hd0 Hd Hval Hsel eps Heps.
  destruct (side_deriv_uniform side F P ss l Hm Hd eps Heps) as [d [Hd' K]].
  exists (Rmin d d0); split; [now apply Rmin_glb_lt|]; intros t Ht.
  destruct (Hsel t (Hm _ _ _ (Rmin_r d d0) Ht)) as [s [Hs [HPs Heq]]].
  specialize (K s Hs HPs t (Hm _ _ _ (Rmin_l d d0) Ht)).
  rewrite Rplus_0_l in K |- *; rewrite Heq, <- (Hval s Hs HPs); exact K.
Qed.

(** * Moving the exclusive parameter of the topmost witness *)

Section Topmost.
Variables (net : network) (D : nat -> R) (w : vec) (k p : nat) (a r : expr).
Hypothesis Hwf : wf net.
Hypothesis He : exclusive_param_with net p k a r.
(* no kink neuron above k has a non-zero adjoint *)
Hypothesis Htop : forall j, In j (kink_neurons net w) -> (k < j)%nat -> zbar net D w j = 0.

Lemma p_lt : (p < n_params net)%nat.
Proof. exact (proj1 He). Qed.

Lemma k_lt : (k < n_size net)%nat.
Proof. exact (proj1 (proj2 He)). Qed.

(* only neuron k reads w_p *)
Lemma grad_sl_exclusive (sl : nat -> R) :
  grad_sl net sl w p =
    ybar_sl net sl w k * eval (n_input net) w (zvec net w) (dparam p (tau net k)).
Proof.
  pose proof He as (_ & Hk & Hj & Hg & _).
  unfold grad_sl; rewrite dparam_not_occurs by exact Hg; rewrite Rplus_0_l.
  rewrite <- (sum_list_map_indicator (seq 0 (n_size net)) k
    (fun i => ybar_sl net sl w i * eval (n_input net) w (zvec net w) (dparam p (tau net i))))
    by first [apply seq_NoDup | apply in_seq; lia].
  apply sum_list_map_ext; intros i Hi; apply in_seq in Hi.
  destruct (Nat.eq_dec k i) as [->|Hne]; [ring|].
  rewrite dparam_not_occurs by (apply Hj; lia); ring.
Qed.

(* at k, the adjoint of a compatible selection is zbar_k, whatever the pieces *)
Lemma zbar_top_compatible (s : nat -> nat) :
  compatible net s w -> zbar_sl net (piece_slopes net s w) w k = zbar net D w k.
Proof.
  intros Hs; apply zbar_compare; intros j Hj.
  destruct (classic (is_kink (sigma net j) (preact net w j))) as [Hkj|Hkj].
  - right; apply Htop; [apply kink_neurons_spec; split; [lia|exact Hkj] | lia].
  - left; apply piece_slopes_compare; [exact Hs | lia | exact Hkj].
Qed.

Lemma grad_select_exclusive (s : nat -> nat) :
  compatible net s w ->
  grad_sl net (piece_slopes net s w) w p =
    zbar net D w k * dpiece (sigma net k) (s k) (preact net w k) * excl_coeff net w k a.
Proof.
  intros Hs; rewrite grad_sl_exclusive, ybar_sl_eq by exact k_lt.
  rewrite zbar_top_compatible by exact Hs.
  rewrite (exclusive_dparam_coeff net p k a r w Hwf He).
  unfold piece_slopes; rewrite select_preact by (exact Hs || exact k_lt); reflexivity.
Qed.

(* a selection at w has, along e_p, the derivative above on both sides *)
Lemma select_line_deriv (s : nat -> nat) :
  compatible net s w ->
  right_deriv (fun t => net_eval (select_net net s) (upd w p (w p + t))) 0
    (zbar net D w k * dpiece (sigma net k) (s k) (preact net w k) * excl_coeff net w k a) /\
  left_deriv (fun t => net_eval (select_net net s) (upd w p (w p + t))) 0
    (zbar net D w k * dpiece (sigma net k) (s k) (preact net w k) * excl_coeff net w k a).
Proof.
  intros Hs; rewrite <- (grad_select_exclusive s Hs), <- (select_grad net s w Hs).
  apply (differentiable_one_sided (n_params net)); [apply select_net_differentiable_at, Hwf | exact p_lt].
Qed.

Lemma preact_line (t : R) :
  preact net (upd w p (w p + t)) k = preact net w k + excl_coeff net w k a * t.
Proof.
  rewrite (exclusive_param_preact_affine net p k a r w _ He),
    (exclusive_param_preact_rest net p k a r w He); ring.
Qed.

(* on one side of 0, f is pointwise among the selections with piece i at k,
   if y_k + alpha t reads piece i there *)
Lemma line_selection (side : R -> R -> Prop) (i : nat) (d : R) :
  side = right_side \/ side = left_side -> 0 < d ->
  (forall t, side d t -> left_piece (sigma net k) (preact net w k + excl_coeff net w k a * t) = i) ->
  exists d0, 0 < d0 /\ forall t, side d0 t -> exists s, In s (patterns net w) /\ s k = i /\
    net_eval net (upd w p (w p + t)) = net_eval (select_net net s) (upd w p (w p + t)).
Proof.
  intros Hside Hd Hi.
  destruct (pattern_near net w) as [dn [Hdn Hnear]].
  destruct (preacts_close net Hwf w dn Hdn) as [delta [Hdelta K]].
  exists (Rmin d delta); split; [now apply Rmin_glb_lt|]; intros t Ht.
  pose proof (side_abs side _ t Hside Ht) as Habs.
  pose proof (Rmin_r d delta) as Hmr.
  assert (Hc : compatible net (pattern_at net (upd w p (w p + t))) w).
  { apply Hnear; intros j Hj; rewrite upd_vadd_unit; apply K; [| |exact Hj].
    - apply supported_vscale, supported_unit_vec, p_lt.
    - rewrite norm_max_scale_unit by exact p_lt; lra. }
  destruct (compatible_in_patterns_upto net w (n_size net) _ Hc) as [s [Hin Heq]].
  exists s; split; [exact Hin|split].
  - rewrite Heq by exact k_lt; unfold pattern_at; rewrite preact_line.
    apply Hi; exact (side_mono_of side Hside _ _ _ (Rmin_l d delta) Ht).
  - rewrite (select_net_ext net s _ Heq); symmetry; apply select_net_eval, pattern_at_compatible.
Qed.

Lemma side_deriv_line (side : R -> R -> Prop) (i : nat) (d : R) :
  side = right_side \/ side = left_side -> 0 < d ->
  (forall t, side d t -> left_piece (sigma net k) (preact net w k + excl_coeff net w k a * t) = i) ->
  side_deriv side (fun t => net_eval net (upd w p (w p + t))) 0
    (zbar net D w k * dpiece (sigma net k) i (preact net w k) * excl_coeff net w k a).
Proof.
  intros Hside Hd Hi.
  destruct (line_selection side i d Hside Hd Hi) as [d0 [Hd0 Hsel]].
  apply (side_deriv_selection side _ (fun s t => net_eval (select_net net s) (upd w p (w p + t)))
           (fun s => s k = i) (patterns net w) _ d0 (side_mono_of side Hside) Hd0).
  - intros s Hin Hsk; apply side_deriv_of_one_sided; [exact Hside|].
    rewrite <- Hsk; apply select_line_deriv, patterns_compatible, Hin.
  - intros s Hin _; cbv beta; rewrite Rplus_0_r, Vec.upd_id.
    apply select_net_eval, patterns_compatible, Hin.
  - exact Hsel.
Qed.

Lemma abs_mul_lt (al t d : R) : al <> 0 -> Rabs t < d / Rabs al -> Rabs (al * t) < d.
Proof.
  intros Ha Ht; pose proof (Rabs_pos_lt al Ha); rewrite Rabs_mult.
  apply (Rmult_lt_compat_l (Rabs al)) in Ht; [|lra].
  replace (Rabs al * (d / Rabs al)) with d in Ht by (field; lra); exact Ht.
Qed.

Lemma prod_slopes_differ (z s1 s2 al : R) :
  z <> 0 -> al <> 0 -> s1 <> s2 -> z * s1 * al <> z * s2 * al.
Proof.
  intros Hz Ha Hs Heq; apply Hs.
  assert (H : (z * al) * (s1 - s2) = 0) by (transitivity (z * s1 * al - z * s2 * al); [ring|lra]).
  destruct (Rmult_integral _ _ H) as [H1|H1]; [destruct (Rmult_integral _ _ H1); contradiction|lra].
Qed.

(* T5(c) at the topmost witness k *)
Theorem topmost_not_differentiable :
  In k (kink_neurons net w) -> zbar net D w k <> 0 -> excl_coeff net w k a <> 0 ->
  ~ differentiable (n_params net) (net_eval net) w.
Proof.
  intros Hkk Hz Ha.
  apply kink_neurons_spec in Hkk as [_ [_ Hsl]].
  destruct (nbelow_right_locally (bps (sigma net k)) (preact net w k)) as [d1 [Hd1 HR]].
  destruct (nbelow_left_locally (bps (sigma net k)) (preact net w k)) as [d2 [Hd2 HL]].
  pose proof (Rabs_pos_lt _ Ha) as Hpa.
  assert (Hr1 : 0 < d1 / Rabs (excl_coeff net w k a)) by (apply Rdiv_lt_0_compat; lra).
  assert (Hr2 : 0 < d2 / Rabs (excl_coeff net w k a)) by (apply Rdiv_lt_0_compat; lra).
  (* moving y_k up reads the right piece, moving it down the left piece *)
  assert (Hup : forall t, 0 < excl_coeff net w k a * t -> Rabs t < d1 / Rabs (excl_coeff net w k a) ->
            left_piece (sigma net k) (preact net w k + excl_coeff net w k a * t) =
            right_piece (sigma net k) (preact net w k)).
  { intros t Hs Ht; apply abs_mul_lt, Rabs_def2 in Ht; [|exact Ha].
    unfold left_piece, right_piece; apply HR; lra. }
  assert (Hdown : forall t, excl_coeff net w k a * t < 0 -> Rabs t < d2 / Rabs (excl_coeff net w k a) ->
            left_piece (sigma net k) (preact net w k + excl_coeff net w k a * t) =
            left_piece (sigma net k) (preact net w k)).
  { intros t Hs Ht; apply abs_mul_lt, Rabs_def2 in Ht; [|exact Ha].
    unfold left_piece; apply HL; lra. }
  destruct (Rlt_or_le 0 (excl_coeff net w k a)) as [Hpos|Hneg].
  - apply (one_sided_differ_not_differentiable _ _ w p
      (zbar net D w k * slope_right (sigma net k) (preact net w k) * excl_coeff net w k a)
      (zbar net D w k * slope_left (sigma net k) (preact net w k) * excl_coeff net w k a) p_lt).
    + apply right_deriv_side, (side_deriv_line right_side _ _ (or_introl eq_refl) Hr1).
      intros t Ht; unfold right_side in Ht; apply Hup; [nra|split_Rabs; lra].
    + apply left_deriv_side, (side_deriv_line left_side _ _ (or_intror eq_refl) Hr2).
      intros t Ht; unfold left_side in Ht; apply Hdown; [nra|split_Rabs; lra].
    + apply prod_slopes_differ; auto.
  - apply (one_sided_differ_not_differentiable _ _ w p
      (zbar net D w k * slope_left (sigma net k) (preact net w k) * excl_coeff net w k a)
      (zbar net D w k * slope_right (sigma net k) (preact net w k) * excl_coeff net w k a) p_lt).
    + apply right_deriv_side, (side_deriv_line right_side _ _ (or_introl eq_refl) Hr2).
      intros t Ht; unfold right_side in Ht; apply Hdown; [nra|split_Rabs; lra].
    + apply left_deriv_side, (side_deriv_line left_side _ _ (or_intror eq_refl) Hr1).
      intros t Ht; unfold left_side in Ht; apply Hup; [nra|split_Rabs; lra].
    + apply prod_slopes_differ; auto.
Qed.

End Topmost.

(** * T5(c) and T3 *)

Lemma exists_topmost (P : nat -> Prop) (N k : nat) :
  P k -> (k < N)%nat -> exists m, P m /\ (m < N)%nat /\ forall j, (m < j < N)%nat -> ~ P j.
Proof.
  remember (N - k)%nat as n eqn:Hn; revert k Hn.
  induction n as [n IH] using lt_wf_ind; intros k Hn Hk HkN.
  destruct (classic (exists j, (k < j < N)%nat /\ P j)) as [[j [Hj HPj]]|Hno].
  - exact (IH (N - j)%nat ltac:(lia) j eq_refl HPj ltac:(lia)).
  - exists k; split; [exact Hk | split; [exact HkN|]]; intros j Hj HPj; apply Hno; eauto.
Qed.

(* THEORY.md T5(c): NS(w) implies f not differentiable at w whenever the
   largest kink neuron with non-zero adjoint is perturbable at w *)
Theorem T5c_NS_not_differentiable (net : network) (D : nat -> R) (w : vec) :
  wf net -> NS net D w ->
  (forall k, In k (kink_neurons net w) -> zbar net D w k <> 0 ->
     (forall j, In j (kink_neurons net w) -> (k < j)%nat -> zbar net D w j = 0) ->
     perturbable net w k) ->
  ~ differentiable (n_params net) (net_eval net) w.
Proof.
  intros Hwf [k0 [Hin Hz]] Hpert.
  destruct (exists_topmost (fun j => In j (kink_neurons net w) /\ zbar net D w j <> 0)
              (n_size net) k0) as [k [[Hk Hzk] [_ Htop]]];
    [split; assumption | apply kink_neurons_spec in Hin; tauto |].
  assert (Htop' : forall j, In j (kink_neurons net w) -> (k < j)%nat -> zbar net D w j = 0).
  { intros j Hj Hkj; destruct (Req_dec (zbar net D w j) 0) as [|Hne]; [assumption|exfalso].
    apply (Htop j); [split; [exact Hkj | apply kink_neurons_spec in Hj; tauto] | split; assumption]. }
  destruct (Hpert k Hk Hzk Htop') as [p [a [r [He Ha]]]].
  apply (topmost_not_differentiable net D w k p a r); assumption.
Qed.

(* in particular when every kink neuron is perturbable *)
Corollary NS_kinks_perturbable_not_differentiable (net : network) (D : nat -> R) (w : vec) :
  wf net -> NS net D w -> (forall k, In k (kink_neurons net w) -> perturbable net w k) ->
  ~ differentiable (n_params net) (net_eval net) w.
Proof.
  intros Hwf Hns Hp; apply (T5c_NS_not_differentiable net D w Hwf Hns); intros k Hk _ _; auto.
Qed.

(* T3, the "if" half: for bias networks NS(w) implies f not differentiable *)
Theorem T3_ns_not_differentiable (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net -> NS net D w ->
  ~ differentiable (n_params net) (net_eval net) w.
Proof.
  intros Hwf Hb Hns; apply (NS_kinks_perturbable_not_differentiable net D w Hwf Hns).
  intros k Hk; apply bias_network_perturbable; [exact Hb|].
  apply kink_neurons_spec in Hk; tauto.
Qed.

(* T3: for bias networks, f is not differentiable at w iff NS(w), for every D *)
Theorem T3 (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net ->
  (~ differentiable (n_params net) (net_eval net) w <-> NS net D w).
Proof.
  intros Hwf Hb; split.
  - intros Hnd; apply NNPP; intros Hns; apply Hnd.
    exact (T5b_not_NS_differentiable' net D w Hwf Hns).
  - now apply T3_ns_not_differentiable.
Qed.
