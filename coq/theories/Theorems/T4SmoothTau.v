(* T4 of THEORY.md section 5 ("Clarke") over smooth pre-activations
   (issue 18, item 3): for a smooth-tau network in which every neuron has
   an own bias (st_bias_neuron), if at every kink neuron D k lies between
   the one-sided slopes, AD_D f(w) lies in the Clarke subdifferential of f
   at w.  As in T4.v / T4C1.v: AD_D f(w) is a convex combination of the ADs
   at vertex choices (Clarke.v, on the linearised network at w); the AD at
   the vertex b is st_gs b w, back-propagation with the derivatives of the
   pieces the vertex pattern chooses, a continuous function of w
   ([st_gs_continuous]); at points w_n -> w where every neuron is strictly
   inside its chosen piece (SmoothTauClarke.v, st_reach_good) f is
   differentiable with gradient st_gs b w_n (T5(b) and [st_ad_gs]). *)
From Coq Require Import Reals Lra Lia List FunctionalExtensionality ClassicalEpsilon.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal Clarke T4 C1Output C1Algebra
  SmoothTau SmoothTauTheorems T4C1 SmoothTauClarke.
Import ListNotations.
Open Scope R_scope.

Section Vertex.
Variables (sn : st_network) (w : vec) (b : nat -> bool).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).
Local Notation s := (st_vertex_pattern sn w b).

(* the derivative of the chosen piece at y_k(v) *)
Definition st_sl (v : vec) (k : nat) : R := dpiece (st_sigma sn k) (s k) (st_preact sn v k).

(* ybar_j for j >= N - m, back-propagated with the slopes st_sl *)
Fixpoint st_ys (v : vec) (m : nat) : nat -> R :=
  match m with
  | O => fun _ => 0
  | S m' => fun j =>
      if Nat.eq_dec j (N - S m') then
        (st_dgz sn v j + sum_list (map (fun i => st_ys v m' i * st_dz sn v i j) (seq (S j) (N - S j))))
        * st_sl v j
      else st_ys v m' j
  end.

Definition st_gs (v : vec) (p : nat) : R :=
  st_dgw sn v p + sum_list (map (fun j => st_ys v N j * st_dw sn v j p) (seq 0 N)).

Lemma st_sl_continuous (k : nat) : (k < N)%nat -> continuous_at W (fun v => st_sl v k) w.
Proof.
  intros Hk; unfold st_sl.
  apply (continuous_at_comp _ (dpiece (st_sigma sn k) (s k)) (fun v => st_preact sn v k)).
  - apply continuity_pt_filterlim, dpiece_cont.
  - apply st_preact_continuous, Hk.
Qed.

Lemma st_ys_continuous (m : nat) : (m <= N)%nat -> forall j, continuous_at W (fun v => st_ys v m j) w.
Proof.
  induction m as [|m IH]; intros Hm j; [exact (continuous_at_const W 0 w)|]; cbn [st_ys].
  destruct (Nat.eq_dec j (N - S m)) as [E|E]; [|apply IH; lia].
  apply (continuous_at_mult W (fun v => st_dgz sn v j + _)); [|apply st_sl_continuous; lia].
  apply (continuous_at_plus W (fun v => st_dgz sn v j)); [apply st_dgz_continuous|].
  apply (sum_list_continuous_at W w (seq (S j) (N - S j)) (fun i v => st_ys v m i * st_dz sn v i j)).
  intros i Hi; apply in_seq in Hi.
  apply (continuous_at_mult W (fun v => st_ys v m i)); [apply IH; lia | apply st_dz_continuous; lia].
Qed.

Lemma st_gs_continuous (p : nat) : continuous_at W (fun v => st_gs v p) w.
Proof.
  unfold st_gs; apply (continuous_at_plus W (fun v => st_dgw sn v p)); [apply st_dgw_continuous|].
  apply (sum_list_continuous_at W w (seq 0 N) (fun j v => st_ys v N j * st_dw sn v j p)).
  intros j Hj; apply in_seq in Hj.
  apply (continuous_at_mult W (fun v => st_ys v N j)); [apply st_ys_continuous; lia | apply st_dw_continuous; lia].
Qed.

(* AD with a choice D that gives the chosen slopes is st_gs *)
Section AtV.
Variables (D : nat -> R) (v : vec).
Hypothesis HD : forall k, (k < N)%nat -> act_deriv_choice (st_sigma sn k) (D k) (st_preact sn v k) = st_sl v k.

Lemma st_ybar_ys (m : nat) : (m <= N)%nat -> forall k, (N - m <= k < N)%nat -> st_ybar sn D v k = st_ys v m k.
Proof.
  induction m as [|m IH]; intros Hm k Hk; [lia|]; cbn [st_ys].
  destruct (Nat.eq_dec k (N - S m)) as [E|E]; [|apply IH; lia].
  destruct (st_ad_equations sn D v k 0 ltac:(lia)) as [Hz [Hy _]].
  rewrite Hy, Hz, HD by lia; f_equal; f_equal; f_equal.
  apply map_ext_in; intros i Hi; apply in_seq in Hi; rewrite IH by lia; reflexivity.
Qed.

Lemma st_ad_gs (p : nat) : (p < W)%nat -> st_ad sn D v p = st_gs v p.
Proof.
  intros Hp; rewrite st_ad_eq by exact Hp; unfold st_gs; f_equal; f_equal.
  apply map_ext_in; intros j Hj; apply in_seq in Hj; rewrite (st_ybar_ys N (le_n N) j) by lia; reflexivity.
Qed.

End AtV.

(* strictly inside the chosen piece: no kink, and the derivative is the piece's *)
Lemma st_good_pieces (j : nat) (y : R) :
  st_good sn w b j y ->
  left_piece (st_sigma sn j) y = s j /\ right_piece (st_sigma sn j) y = s j.
Proof.
  intros [r [Hr K]]; split; [apply K; rewrite Rminus_eq_0, Rabs_R0; exact Hr|].
  destruct (nbelow_right_locally (bps (st_sigma sn j)) y) as [d [Hd Hn]].
  assert (Hm : 0 < Rmin d r) by (apply Rmin_glb_lt; assumption).
  generalize (Rmin_l d r) (Rmin_r d r); intros.
  unfold right_piece; rewrite <- (Hn (y + Rmin d r / 2)) by lra.
  apply K; replace (y + Rmin d r / 2 - y) with (Rmin d r / 2) by ring.
  rewrite Rabs_pos_eq; lra.
Qed.

Lemma st_good_not_kink (j : nat) (y d : R) :
  st_good sn w b j y ->
  ~ is_kink (st_sigma sn j) y /\ act_deriv_choice (st_sigma sn j) d y = dpiece (st_sigma sn j) (s j) y.
Proof.
  intros Hg; destruct (st_good_pieces j y Hg) as [HL HR].
  assert (Hk : ~ is_kink (st_sigma sn j) y).
  { intros [_ Hs]; apply Hs; unfold slope_left, slope_right; rewrite HL, HR; reflexivity. }
  split; [exact Hk|]; rewrite act_deriv_choice_not_kink by exact Hk.
  unfold slope_right; rewrite HR; reflexivity.
Qed.

Hypothesis Hbias : forall k, (k < N)%nat -> exists p, st_bias_neuron sn k p.

(* at a point where every neuron is strictly inside its chosen piece, f is
   differentiable with gradient st_gs *)
Lemma st_good_differentiable (v : vec) :
  (forall j, (j < N)%nat -> st_good sn w b j (st_preact sn v j)) ->
  differentiable_at W (st_eval sn) v (st_gs v).
Proof.
  intros Hg.
  assert (HD : forall k, (k < N)%nat ->
    act_deriv_choice (st_sigma sn k) 0 (st_preact sn v k) = st_sl v k)
    by (intros k Hk; apply (st_good_not_kink k _ 0 (Hg k Hk))).
  apply (differentiable_at_grad_ext W _ v (st_ad sn (fun _ => 0) v));
    [intros p Hp; apply (st_ad_gs (fun _ => 0) v HD p Hp)|].
  apply T5b_st_not_NS_differentiable; intros [k [Hk _]].
  destruct (st_kink_neurons_spec sn v k Hk) as [HkN Hin]; apply kinks_spec in Hin.
  exact (proj1 (st_good_not_kink k _ 0 (Hg k HkN)) Hin).
Qed.

(* the vertex value st_gs w is a limit of gradients of f *)
Theorem st_vertex_clarke_limit : clarke_limit_fun W (st_eval sn) w (st_gs w).
Proof.
  assert (Hseq : forall n : nat, exists h, supported W h /\ norm_max W h < / INR (S n) /\
            forall j, (j < N)%nat -> st_good sn w b j (st_preact sn (vadd w h) j)).
  { intros n; apply (st_reach_good sn w b Hbias); [lia | apply Rinv_0_lt_compat, lt_0_INR; lia]. }
  set (hs := fun n => proj1_sig (constructive_indefinite_description _ (Hseq n))).
  assert (Hhs : forall n, supported W (hs n) /\ norm_max W (hs n) < / INR (S n) /\
            forall j, (j < N)%nat -> st_good sn w b j (st_preact sn (vadd w (hs n)) j))
    by (intros n; exact (proj2_sig (constructive_indefinite_description _ (Hseq n)))).
  exists (fun n => vadd w (hs n)), (fun n => st_gs (vadd w (hs n))).
  split; [|split].
  - intros eps He; destruct (inv_S_small eps He) as [M HM]; exists M; intros n Hn.
    rewrite (norm_max_ext _ _ (hs n)) by (intros i _; unfold vadd; ring).
    eapply Rlt_trans; [apply Hhs | apply HM, Hn].
  - intros n; apply st_good_differentiable, Hhs.
  - intros p Hp eps He.
    destruct (st_gs_continuous p eps He) as [d [Hd K]].
    destruct (inv_S_small d Hd) as [M HM]; exists M; intros n Hn.
    apply K; [apply Hhs | eapply Rlt_trans; [apply Hhs | apply HM, Hn]].
Qed.

End Vertex.

(** * T4 *)

Section T4.
Variables (sn : st_network) (D : nat -> R) (w : vec).
Local Notation W := (st_W sn).
Local Notation N := (st_N sn).
Local Notation L := (net_lin (lin_c1 sn w) w).

Lemma L_sigma k : (k < N)%nat -> sigma L k = st_sigma sn k.
Proof. intros Hk; change (sigma L k) with (sigma (lin_net sn w) k); apply lin_sigma_nth, Hk. Qed.

Lemma L_preact k : (k < N)%nat -> preact L w k = st_preact sn w k.
Proof.
  intros Hk; rewrite preact_net_lin; change (cn_net (lin_c1 sn w)) with (lin_net sn w).
  apply lin_preact_at, Hk.
Qed.

Lemma L_kink_neurons : kink_neurons L w = st_kink_neurons sn w.
Proof.
  rewrite kink_neurons_net_lin; change (cn_net (lin_c1 sn w)) with (lin_net sn w).
  apply lin_kink_neurons.
Qed.

Lemma L_size : n_size L = N.
Proof. change (n_size L) with (n_size (lin_net sn w)); apply lin_net_size. Qed.

(* the AD at a vertex choice is the vertex value st_gs *)
Lemma st_ad_vertex (b : nat -> bool) (p : nat) : (p < W)%nat ->
  st_ad sn (vertex_choice L w D (kink_neurons L w) b) w p = st_gs sn w b w p.
Proof.
  intros Hp; apply st_ad_gs; [|exact Hp]; intros k Hk.
  unfold st_sl, st_vertex_pattern, vertex_choice, slope_R, slope_L.
  rewrite L_sigma, L_preact by exact Hk.
  destruct (in_dec Nat.eq_dec k (kink_neurons L w)) as [Hin|Hn].
  - rewrite act_deriv_choice_kink.
    + unfold slope_right, slope_left; destruct (b k); reflexivity.
    + apply kink_neurons_spec in Hin as [_ Hkk]; rewrite L_sigma, L_preact in Hkk by exact Hk; exact Hkk.
  - assert (Hkk : ~ is_kink (st_sigma sn k) (st_preact sn w k)).
    { intros Hkk; apply Hn, kink_neurons_spec; rewrite L_size, L_sigma, L_preact by exact Hk; tauto. }
    destruct (b k).
    + rewrite act_deriv_choice_not_kink by exact Hkk; reflexivity.
    + rewrite act_deriv_choice_not_kink_left by exact Hkk; reflexivity.
Qed.

Theorem T4_st_ad_in_clarke :
  (forall k, (k < N)%nat -> exists p, st_bias_neuron sn k p) ->
  (forall k, In k (st_kink_neurons sn w) ->
     Rmin (slope_left (st_sigma sn k) (st_preact sn w k)) (slope_right (st_sigma sn k) (st_preact sn w k)) <= D k <=
     Rmax (slope_left (st_sigma sn k) (st_preact sn w k)) (slope_right (st_sigma sn k) (st_preact sn w k))) ->
  in_clarke_fun W (st_eval sn) w (st_ad sn D w).
Proof.
  intros Hb HD.
  assert (HD' : forall k, In k (kink_neurons L w) -> between_slopes L w D k).
  { intros k Hk; assert (HkN : (k < N)%nat) by (apply kink_neurons_spec in Hk; rewrite L_size in Hk; tauto).
    rewrite L_kink_neurons in Hk.
    unfold between_slopes, slope_L, slope_R; rewrite L_sigma, L_preact by exact HkN; apply HD, Hk. }
  destruct (ad_convex_combination_of_vertices L w (kink_neurons L w) (kink_neurons_NoDup L w) D HD')
    as [cs [H0 [H1 H]]].
  exists (map (fun c => (fst c, st_gs sn w (snd c) w)) cs).
  split; [|split].
  - intros c Hc; apply in_map_iff in Hc as [c' [<- Hc']]; cbn [fst snd].
    split; [now apply H0 | now apply st_vertex_clarke_limit].
  - rewrite map_map; exact H1.
  - intros p Hp; unfold st_ad, ad_c1; rewrite H, map_map; cbn [fst snd].
    transitivity (sum_list (map (fun c => fst c * dgw (lin_c1 sn w) w p) cs) +
                  sum_list (map (fun c => fst c * ad L (vertex_choice L w D (kink_neurons L w) (snd c)) w p) cs)).
    + rewrite (sum_list_map_ext (fun c => fst c * dgw (lin_c1 sn w) w p) (fun c => dgw (lin_c1 sn w) w p * fst c))
        by (intros; ring).
      rewrite sum_list_map_scal, H1; ring.
    + rewrite <- sum_list_map_plus; apply sum_list_map_ext; intros c _.
      rewrite <- (st_ad_vertex (snd c) p Hp); unfold st_ad, ad_c1; ring.
Qed.

End T4.
