(* T4 of THEORY.md section 5 ("Clarke"), proved as in section 6 "Clarke (T4)"
   (FORMAL_PLAN.md point 9): AD_D f(w) is a convex combination of vertex
   gradients grad f_s(w) (Clarke.v); each vertex gradient is a limit of
   gradients of f at points w_n -> w: the biases of the neurons are moved in
   topological order so that every pre-activation lies strictly inside the
   interval of the chosen piece, where f = f_s near w_n, and
   grad f_s(w_n) -> grad f_s(w) since back-propagation with the piece slopes is
   continuous in w (the piece derivatives are continuous).  Last section:
   T5(c), second half: the same for every network whose kink neurons at w are
   perturbable, moving only their exclusive parameters. *)
From Coq Require Import Reals Lra Lia List ClassicalEpsilon.
From Coquelicot Require Import Coquelicot.
From ADCorrect Require Import Vec Frechet Activation Network AD SelectLocal T5b Clarke.
Import ListNotations.
Open Scope R_scope.

(** * Back-propagation is continuous in w *)

Lemma occurs_param_dparam (q p : nat) (e : expr) : occurs_param q (dparam p e) -> occurs_param q e.
Proof. induction e; simpl; tauto. Qed.

Lemma occurs_param_dneuron (q j : nat) (e : expr) : occurs_param q (dneuron j e) -> occurs_param q e.
Proof. induction e; simpl; tauto. Qed.

Lemma params_below_dparam (W p : nat) (e : expr) : params_below W e -> params_below W (dparam p e).
Proof. intros H q Hq; apply H, (occurs_param_dparam q p), Hq. Qed.

Lemma params_below_dneuron (W j : nat) (e : expr) : params_below W e -> params_below W (dneuron j e).
Proof. intros H q Hq; apply H, (occurs_param_dneuron q j), Hq. Qed.

Lemma sum_list_continuous (W : nat) (w : vec) (l : list nat) (F : nat -> vec -> R) :
  (forall i, In i l -> continuous_at W (F i) w) ->
  continuous_at W (fun v => sum_list (map (fun i => F i v) l)) w.
Proof.
  induction l as [|i l IH]; intros H; [exact (continuous_at_const W 0 w)|].
  apply (continuous_at_plus W (F i) (fun v => sum_list (map (fun i => F i v) l)));
    [apply H; now left | apply IH; intros; apply H; now right].
Qed.

Section GradCont.
Variables (net : network) (w : vec).
Hypothesis Hwf : wf net.
Let W := n_params net.

Lemma zvec_continuous (j : nat) : continuous_at W (fun v => zvec net v j) w.
Proof.
  destruct (Nat.lt_ge_cases j (n_size net)) as [Hj|Hj].
  - apply (continuous_at_ext _ (fun v => post net v j)); [intros v; now apply zvec_lt|].
    now apply post_continuous.
  - apply (continuous_at_ext _ (fun _ => 0)); [intros v; unfold zvec; now apply zvals_ge|].
    apply continuous_at_const.
Qed.

Lemma eval_zvec_continuous (e : expr) : params_below W e ->
  continuous_at W (fun v => eval (n_input net) v (zvec net v) e) w.
Proof. intros Hp; apply eval_continuous; [exact Hp | intros j _; apply zvec_continuous]. Qed.

Lemma tau_params_below (k : nat) : (k < n_size net)%nat -> params_below W (tau net k).
Proof. intros Hk; exact (proj2 (proj1 Hwf k Hk)). Qed.

Lemma out_params_below : params_below W (n_out net).
Proof. exact (proj2 (proj2 Hwf)). Qed.

Variable sl : vec -> nat -> R.
Hypothesis Hsl : forall k, (k < n_size net)%nat -> continuous_at W (fun v => sl v k) w.

Lemma zbar_from_continuous (Y : vec -> nat -> R) (k : nat) :
  (forall j, (k < j < n_size net)%nat -> continuous_at W (fun v => Y v j) w) ->
  continuous_at W (fun v => zbar_from net v (Y v) k) w.
Proof.
  intros HY; unfold zbar_from.
  apply (continuous_at_plus W (fun v => eval (n_input net) v (zvec net v) (dneuron k (n_out net)))
    (fun v => sum_list (map (fun j => Y v j * eval (n_input net) v (zvec net v) (dneuron k (tau net j)))
                            (seq (S k) (n_size net - S k))))).
  - apply eval_zvec_continuous, params_below_dneuron, out_params_below.
  - apply (sum_list_continuous W w _
      (fun j v => Y v j * eval (n_input net) v (zvec net v) (dneuron k (tau net j)))).
    intros j Hj; apply in_seq in Hj.
    apply (continuous_at_mult W (fun v => Y v j)
             (fun v => eval (n_input net) v (zvec net v) (dneuron k (tau net j)))).
    + apply HY; lia.
    + apply eval_zvec_continuous, params_below_dneuron, tau_params_below; lia.
Qed.

Lemma ybars_continuous (m : nat) : (m <= n_size net)%nat ->
  forall j, continuous_at W (fun v => ybars_sl net (sl v) v m j) w.
Proof.
  induction m as [|m IH]; intros Hm j; [exact (continuous_at_const W 0 w)|]; cbn [ybars_sl].
  destruct (Nat.eq_dec j (n_size net - S m)) as [->|Hne]; [|apply IH; lia].
  apply (continuous_at_mult W (fun v => zbar_from net v (ybars_sl net (sl v) v m) (n_size net - S m))
           (fun v => sl v (n_size net - S m))).
  - apply zbar_from_continuous; intros; apply IH; lia.
  - apply Hsl; lia.
Qed.

(* w -> grad_sl (sl w) w is continuous when the slopes are *)
Lemma grad_sl_continuous (p : nat) : continuous_at W (fun v => grad_sl net (sl v) v p) w.
Proof.
  unfold grad_sl.
  apply (continuous_at_plus W (fun v => eval (n_input net) v (zvec net v) (dparam p (n_out net)))
    (fun v => sum_list (map (fun k => ybar_sl net (sl v) v k *
                                      eval (n_input net) v (zvec net v) (dparam p (tau net k)))
                            (seq 0 (n_size net))))).
  - apply eval_zvec_continuous, params_below_dparam, out_params_below.
  - apply (sum_list_continuous W w _ (fun k v => ybar_sl net (sl v) v k *
                                      eval (n_input net) v (zvec net v) (dparam p (tau net k)))).
    intros k Hk; apply in_seq in Hk.
    apply (continuous_at_mult W (fun v => ybar_sl net (sl v) v k)
             (fun v => eval (n_input net) v (zvec net v) (dparam p (tau net k)))).
    + unfold ybar_sl; apply ybars_continuous; lia.
    + apply eval_zvec_continuous, params_below_dparam, tau_params_below; lia.
Qed.

End GradCont.

(* the slopes of the pieces of a pattern are continuous in w *)
Lemma piece_slopes_continuous (net : network) (s : nat -> nat) (w : vec) (k : nat) :
  wf net -> (k < n_size net)%nat ->
  continuous_at (n_params net) (fun v => piece_slopes net s v k) w.
Proof.
  intros Hwf Hk; unfold piece_slopes.
  apply (continuous_at_comp _ (dpiece (sigma net k) (s k)) (fun v => preact (select_net net s) v k)).
  - apply continuity_pt_filterlim, dpiece_cont.
  - change (n_params net) with (n_params (select_net net s)).
    apply preact_continuous; [now apply select_net_wf | now rewrite select_size].
Qed.

(* grad f_s(v) -> grad f_s(w) as v -> w *)
Lemma select_grad_continuous (net : network) (s : nat -> nat) (w : vec) (p : nat) :
  wf net ->
  continuous_at (n_params net)
    (fun v => grad_sl (select_net net s) (piece_slopes net s v) v p) w.
Proof.
  intros Hwf; apply (grad_sl_continuous (select_net net s) w (select_net_wf net s Hwf)).
  intros k Hk; rewrite select_size in Hk; exact (piece_slopes_continuous net s w k Hwf Hk).
Qed.

(** * Perturbing the biases *)

(* moving the bias of neuron m does not move the neurons below m *)
Lemma preact_upd_below (net : network) (p m : nat) (a r : expr) (v : vec) (t : R) (j : nat) :
  exclusive_param_with net p m a r -> (j < m)%nat -> preact net (upd v p t) j = preact net v j.
Proof.
  intros He Hj; destruct He as (Hp & Hm & Hoth & _).
  unfold preact; rewrite eval_upd_not_occurs by (apply Hoth; lia).
  apply eval_ext_neuron; intros i _; apply zvals_upd_not_occurs; intros i' Hi'; apply Hoth; lia.
Qed.

Lemma inv_S_small (eps : R) : 0 < eps -> exists N, forall n, (N <= n)%nat -> / INR (S n) < eps.
Proof.
  intros He; destruct (archimed_cor1 eps He) as [N [HN HN0]]; exists N; intros n Hn.
  eapply Rle_lt_trans; [|exact HN].
  apply Rinv_le_contravar; [apply lt_0_INR; exact HN0 | apply le_INR; lia].
Qed.

Section Realise.
Variables (net : network) (w : vec) (b : nat -> bool).
Hypothesis Hwf : wf net.
Hypothesis Hbias : bias_network net.
Let s := vertex_pattern net w b.

(* near y, the left piece of sigma_j is the piece chosen at neuron j *)
Definition good (j : nat) (y : R) : Prop :=
  exists r, 0 < r /\ forall y', Rabs (y' - y) < r -> left_piece (sigma net j) y' = s j.

(* points just on the chosen side of y_j(w) are good *)
Lemma good_near_side (j : nat) :
  exists d, 0 < d /\ forall rho, 0 < rho < d ->
    good j (preact net w j + (if b j then rho else - rho)).
Proof.
  unfold good, s, vertex_pattern; destruct (b j).
  - destruct (nbelow_right_locally (bps (sigma net j)) (preact net w j)) as [d [Hd H]].
    exists d; split; [exact Hd|]; intros rho Hr; exists (Rmin rho (d - rho)).
    split; [apply Rmin_glb_lt; lra|]; intros y' Hy.
    generalize (Rmin_l rho (d - rho)) (Rmin_r rho (d - rho)); intros.
    apply Rabs_def2 in Hy as [Hy1 Hy2]; unfold left_piece, right_piece; apply H; lra.
  - destruct (nbelow_left_locally (bps (sigma net j)) (preact net w j)) as [d [Hd H]].
    exists d; split; [exact Hd|]; intros rho Hr; exists (Rmin rho (d - rho)).
    split; [apply Rmin_glb_lt; lra|]; intros y' Hy.
    generalize (Rmin_l rho (d - rho)) (Rmin_r rho (d - rho)); intros.
    apply Rabs_def2 in Hy as [Hy1 Hy2]; unfold left_piece; apply H; lra.
Qed.

(* arbitrarily close to w, all neurons below m are good *)
Lemma reach_good (m : nat) : (m <= n_size net)%nat -> forall eps, 0 < eps ->
  exists h, supported (n_params net) h /\ norm_max (n_params net) h < eps /\
    forall j, (j < m)%nat -> good j (preact net (vadd w h) j).
Proof.
  induction m as [|m IH]; intros Hm eps He.
  - exists vzero; split; [apply supported_vzero|]; split; [rewrite norm_max_vzero; exact He|].
    intros; lia.
  - destruct (good_near_side m) as [d [Hd Hgood]].
    destruct (preact_continuous net Hwf w m ltac:(lia) (eps / 4) ltac:(lra)) as [d1 [Hd1 K1]].
    destruct (IH ltac:(lia) (Rmin (eps / 2) d1) ltac:(apply Rmin_glb_lt; lra)) as [h [Hs [Hn Hg]]].
    generalize (Rmin_l (eps / 2) d1) (Rmin_r (eps / 2) d1); intros Hn1 Hn2.
    destruct (Hbias m ltac:(lia)) as [p [r Hex]].
    assert (Hp : (p < (n_params net))%nat) by apply Hex.
    set (rho := Rmin (d / 2) (eps / 4)).
    assert (Hrho : 0 < rho <= eps / 4 /\ rho < d).
    { unfold rho; generalize (Rmin_l (d / 2) (eps / 4)) (Rmin_r (d / 2) (eps / 4)); intros.
      repeat split; try lra; apply Rmin_glb_lt; lra. }
    set (v := vadd w h).
    set (delta := preact net w m + (if b m then rho else - rho) - preact net v m).
    assert (Hdelta : Rabs delta < eps / 2).
    { specialize (K1 h Hs ltac:(lra)); apply Rabs_def2 in K1 as [K1a K1b].
      unfold delta, v; destruct (b m); apply Rabs_def1; lra. }
    exists (vadd h (vscale delta (unit_vec p))); split; [|split].
    + apply supported_vadd; [exact Hs | apply supported_vscale, supported_unit_vec, Hp].
    + eapply Rle_lt_trans; [apply norm_max_triangle|].
      rewrite norm_max_scale_unit by exact Hp; lra.
    + assert (Hv : forall i, vadd w (vadd h (vscale delta (unit_vec p))) i = upd v p (v p + delta) i).
      { intros i; rewrite <- vadd_scale_unit_pointwise; unfold v, vadd; ring. }
      intros j Hj; rewrite (preact_ext net _ _ j Hv).
      destruct (Nat.eq_dec j m) as [->|Hjm].
      * rewrite (exclusive_param_preact net p m r v (v p + delta) Hex).
        replace (v p + delta + (preact net v m - v p))
          with (preact net w m + (if b m then rho else - rho)) by (unfold delta; ring).
        apply Hgood; lra.
      * rewrite (preact_upd_below net p m (EConst 1) r v _ j Hex) by lia.
        apply Hg; lia.
Qed.

(* when all neurons are good at v, the pieces stay the chosen ones near v *)
Lemma good_open (v : vec) :
  (forall j, (j < n_size net)%nat -> good j (preact net v j)) ->
  exists delta, 0 < delta /\ forall h, supported (n_params net) h -> norm_max (n_params net) h < delta ->
    forall j, (j < n_size net)%nat -> left_piece (sigma net j) (preact net (vadd v h) j) = s j.
Proof.
  intros Hg.
  assert (H : forall n, (n <= n_size net)%nat -> exists delta, 0 < delta /\
    forall h, supported (n_params net) h -> norm_max (n_params net) h < delta ->
      forall j, (j < n)%nat -> left_piece (sigma net j) (preact net (vadd v h) j) = s j).
  { induction n as [|m IH]; intros Hm.
    - exists 1; split; [lra | intros; lia].
    - destruct IH as [d1 [Hd1 K1]]; [lia|].
      destruct (Hg m ltac:(lia)) as [r [Hr Kr]].
      destruct (preact_continuous net Hwf v m ltac:(lia) r Hr) as [d2 [Hd2 K2]].
      exists (Rmin d1 d2); split; [apply Rmin_glb_lt; assumption|]; intros h Hs Hh j Hj.
      generalize (Rmin_l d1 d2) (Rmin_r d1 d2); intros.
      destruct (Nat.eq_dec j m) as [->|];
        [apply Kr, K2; [exact Hs | lra] | apply K1; [exact Hs | lra | lia]]. }
  apply (H (n_size net)); lia.
Qed.

(* ... so f = f_s near v, and f is differentiable at v with gradient grad f_s(v) *)
Lemma good_differentiable_at (v : vec) :
  (forall j, (j < n_size net)%nat -> good j (preact net v j)) ->
  differentiable_at (n_params net) (net_eval net) v (grad_sl (select_net net s) (piece_slopes net s v) v).
Proof.
  intros Hg; destruct (good_open v Hg) as [d [Hd K]].
  apply (differentiable_at_local_ext (n_params net) (net_eval (select_net net s)) (net_eval net) v _ d Hd).
  - intros h Hs Hh.
    rewrite (select_net_ext net s (pattern_at net (vadd v h)))
      by (intros k Hk; symmetry; unfold pattern_at; apply K; assumption).
    symmetry; apply select_net_eval, pattern_at_compatible.
  - apply select_net_differentiable_at, Hwf.
Qed.

(* each vertex gradient is a limit of gradients of f at nearby points *)
Theorem vertex_grad_clarke_limit : clarke_limit net w (vertex_grad net w b).
Proof.
  assert (Hseq : forall n : nat, exists h, supported (n_params net) h /\ norm_max (n_params net) h < / INR (S n) /\
            forall j, (j < n_size net)%nat -> good j (preact net (vadd w h) j)).
  { intros n; apply reach_good; [lia | apply Rinv_0_lt_compat, lt_0_INR; lia]. }
  set (hs := fun n => proj1_sig (constructive_indefinite_description _ (Hseq n))).
  assert (Hhs : forall n, supported (n_params net) (hs n) /\ norm_max (n_params net) (hs n) < / INR (S n) /\
            forall j, (j < n_size net)%nat -> good j (preact net (vadd w (hs n)) j))
    by (intros n; exact (proj2_sig (constructive_indefinite_description _ (Hseq n)))).
  exists (fun n => vadd w (hs n)),
    (fun n => grad_sl (select_net net s) (piece_slopes net s (vadd w (hs n))) (vadd w (hs n))).
  split; [|split].
  - intros eps He; destruct (inv_S_small eps He) as [N HN]; exists N; intros n Hn.
    rewrite (norm_max_ext _ _ (hs n)) by (intros i _; unfold vadd; ring).
    eapply Rlt_trans; [apply Hhs | apply HN, Hn].
  - intros n; apply good_differentiable_at, Hhs.
  - intros p Hp eps He.
    destruct (select_grad_continuous net s w p Hwf eps He) as [d [Hd K]].
    destruct (inv_S_small d Hd) as [N HN]; exists N; intros n Hn.
    replace (vertex_grad net w b p) with (grad_sl (select_net net s) (piece_slopes net s w) w p).
    + apply K; [apply Hhs | eapply Rlt_trans; [apply Hhs | apply HN, Hn]].
    + unfold vertex_grad; apply select_grad, vertex_pattern_compatible.
Qed.

End Realise.

(** * T4 *)

(* the common last step: when every vertex gradient grad f_s(w) is a limit of nearby
   gradients, AD_D f(w), a convex combination of vertex gradients, is in the Clarke
   subdifferential *)
Lemma ad_in_clarke_of_vertex_limits (net : network) (D : nat -> R) (w : vec) :
  (forall k, In k (kink_neurons net w) -> between_slopes net w D k) ->
  (forall b, clarke_limit net w (vertex_grad net w b)) ->
  in_clarke net w (ad net D w).
Proof.
  intros HD Hlim.
  destruct (ad_convex_combination_of_vertex_grads net w D HD) as [cs [H0 [H1 H]]].
  exists (map (fun c => (fst c, vertex_grad net w (snd c))) cs); split; [|split].
  - intros c Hc; apply in_map_iff in Hc as [c' [<- Hc']]; cbn [fst snd].
    split; [now apply H0 | apply Hlim].
  - rewrite map_map; exact H1.
  - intros p _; rewrite H, map_map; reflexivity.
Qed.

(* for a bias network, if at every kink neuron the choice D k lies between the
   one-sided slopes of sigma_k at y_k(w), AD_D f(w) is in the Clarke
   subdifferential of f at w *)
Theorem T4_ad_in_clarke (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net ->
  (forall k, In k (kink_neurons net w) ->
     Rmin (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))
       <= D k <=
     Rmax (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))) ->
  in_clarke net w (ad net D w).
Proof.
  intros Hwf Hb HD.
  apply ad_in_clarke_of_vertex_limits; [exact HD|].
  intros b; now apply vertex_grad_clarke_limit.
Qed.

(* the form of THEORY.md: D k between the one-sided slopes at every kink c of sigma_k *)
Corollary T4_ad_in_clarke_all_kinks (net : network) (D : nat -> R) (w : vec) :
  wf net -> bias_network net ->
  (forall k c, is_kink (sigma net k) c ->
     Rmin (slope_left (sigma net k) c) (slope_right (sigma net k) c) <= D k <=
     Rmax (slope_left (sigma net k) c) (slope_right (sigma net k) c)) ->
  in_clarke net w (ad net D w).
Proof.
  intros Hwf Hb HD; apply T4_ad_in_clarke; [exact Hwf | exact Hb|].
  intros k Hk; apply kink_neurons_spec in Hk as [_ Hk]; now apply HD.
Qed.

(** * T5(c): T4 when every kink neuron is perturbable (Coq IV, item 2) *)

(* THEORY.md T5(c), second half: T4 holds whenever all kink neurons at w are
   perturbable (by distinct exclusive parameters: distinctness is automatic,
   [perturbable_params_distinct]).  The realisability step of T4 moved the
   bias of every neuron; here only the kink neurons of w are moved, each by
   its exclusive parameter p, whose coefficient a_k(v) stays away from 0 near
   w (it is d tau_k / d w_p, continuous).  The other neurons are not moved:
   near w they stay off the kinks (kinks are isolated), where the slope AD
   uses is continuous, so the gradient of f at the realising points still
   tends to the vertex gradient. *)

From ADCorrect Require Import T3.

(** ** Exclusive parameters of perturbable neurons are distinct *)

Lemma perturbable_params_distinct (net : network) (w : vec) (p k k' : nat) (a r a' r' : expr) :
  exclusive_param_with net p k a r -> excl_coeff net w k a <> 0 ->
  exclusive_param_with net p k' a' r' -> k = k'.
Proof.
  intros He Ha He'; destruct (Nat.eq_dec k k') as [|Hne]; [assumption|exfalso].
  destruct He as (Hp & Hk & _ & _ & Hna & Hnr & Heq).
  destruct He' as (_ & _ & Hoth & _).
  assert (Hn : ~ occurs_param p (tau net k)) by (apply Hoth; [exact Hk | exact Hne]).
  set (z := zvals net w k).
  generalize (Heq (upd w p 0) z) (Heq (upd w p 1) z).
  rewrite !eval_upd_not_occurs by assumption.
  rewrite !Vec.upd_same; intros E0 E1; apply Ha; unfold excl_coeff; fold z; lra.
Qed.

(** ** Kinks are isolated; off a kink the slope used by AD is continuous *)

Lemma not_in_list_near (l : list R) (c : R) :
  ~ In c l -> exists d, 0 < d /\ forall y, Rabs (y - c) < d -> ~ In y l.
Proof.
  induction l as [|x l IH]; intros Hc.
  - exists 1; split; [lra | intros y _ []].
  - destruct IH as [d [Hd K]]; [intros H; apply Hc; now right|].
    assert (Hx : x <> c) by (intros ->; apply Hc; now left).
    exists (Rmin d (Rabs (x - c))); split.
    { apply Rmin_glb_lt; [exact Hd | apply Rabs_pos_lt; lra]. }
    intros y Hy [->|Hin].
    + generalize (Rmin_r d (Rabs (y - c))); lra.
    + apply (K y); [generalize (Rmin_l d (Rabs (x - c))); lra | exact Hin].
Qed.

Lemma not_kink_near (a : activation) (c : R) :
  ~ is_kink a c -> exists d, 0 < d /\ forall y, Rabs (y - c) < d -> ~ is_kink a y.
Proof.
  intros Hc; rewrite <- kinks_spec in Hc.
  destruct (not_in_list_near (kinks a) c Hc) as [d [Hd K]].
  exists d; split; [exact Hd|]; intros y Hy; rewrite <- kinks_spec; apply K, Hy.
Qed.

Lemma dpiece_eps_delta (a : activation) (i : nat) (x eps : R) : 0 < eps ->
  exists d, 0 < d /\ forall y, Rabs (y - x) < d -> Rabs (dpiece a i y - dpiece a i x) < eps.
Proof.
  intros He.
  generalize (proj2 (continuity_pt_filterlim _ _) (dpiece_cont a i x) eps He).
  intros [d [Hd H]]; exists d; split; [exact Hd|]; intros y Hy.
  destruct (Req_dec y x) as [->|Hne]; [rewrite Rminus_eq_0, Rabs_R0; exact He|].
  apply (H y); split; [split; [exact I | auto] | exact Hy].
Qed.

Lemma deriv_choice_continuous_not_kink (a : activation) (d c : R) :
  ~ is_kink a c -> continuity_pt (act_deriv_choice a d) c.
Proof.
  intros Hc eps He.
  destruct (not_kink_near a c Hc) as [d0 [Hd0 K0]].
  destruct (left_piece_near a c) as [d1 [Hd1 K1]].
  destruct (dpiece_eps_delta a (left_piece a c) c eps He) as [d2 [Hd2 K2]].
  destruct (dpiece_eps_delta a (right_piece a c) c eps He) as [d3 [Hd3 K3]].
  exists (Rmin (Rmin d0 d1) (Rmin d2 d3)); split; [repeat apply Rmin_glb_lt; assumption|].
  intros y [_ Hy]; simpl in Hy; unfold R_dist in Hy |- *.
  generalize (Rmin_l (Rmin d0 d1) (Rmin d2 d3)) (Rmin_r (Rmin d0 d1) (Rmin d2 d3))
    (Rmin_l d0 d1) (Rmin_r d0 d1) (Rmin_l d2 d3) (Rmin_r d2 d3); intros.
  rewrite (act_deriv_choice_not_kink_left a d y) by (apply K0; lra).
  rewrite (act_deriv_choice_not_kink_left a d c Hc).
  assert (Hs := not_kink_slopes a c Hc); unfold slope_left, slope_right in *.
  destruct (K1 y ltac:(lra)) as [Hi|Hi]; rewrite Hi.
  - apply K2; lra.
  - rewrite Hs; apply K3; lra.
Qed.

(** ** Realising the vertices by moving the kink neurons only *)

Section RealisePerturbable.
Variables (net : network) (w : vec) (b : nat -> bool).
Hypothesis Hwf : wf net.
Hypothesis Hpert : forall k, In k (kink_neurons net w) -> perturbable net w k.

(* a good point is no breakpoint: both pieces there are the chosen one *)
Lemma good_pieces (j : nat) (y : R) :
  good net w b j y ->
  left_piece (sigma net j) y = vertex_pattern net w b j /\
  right_piece (sigma net j) y = vertex_pattern net w b j.
Proof.
  intros [r [Hr K]]; split; [apply K; rewrite Rminus_eq_0, Rabs_R0; exact Hr|].
  destruct (nbelow_right_locally (bps (sigma net j)) y) as [d [Hd Hn]].
  assert (Hm : 0 < Rmin d r) by (apply Rmin_glb_lt; assumption).
  generalize (Rmin_l d r) (Rmin_r d r); intros.
  unfold right_piece; rewrite <- (Hn (y + Rmin d r / 2)) by lra.
  apply K; replace (y + Rmin d r / 2 - y) with (Rmin d r / 2) by ring.
  rewrite Rabs_pos_eq; lra.
Qed.

Lemma good_not_kink (j : nat) (y d : R) :
  good net w b j y ->
  ~ is_kink (sigma net j) y /\
  act_deriv_choice (sigma net j) d y = dpiece (sigma net j) (vertex_pattern net w b j) y.
Proof.
  intros Hg; destruct (good_pieces j y Hg) as [HL HR].
  assert (Hk : ~ is_kink (sigma net j) y).
  { intros [_ Hs]; apply Hs; unfold slope_left, slope_right; rewrite HL, HR; reflexivity. }
  split; [exact Hk|]; rewrite act_deriv_choice_not_kink by exact Hk.
  unfold slope_right; rewrite HR; reflexivity.
Qed.

(* the coefficient of an exclusive parameter is continuous: it is d tau_k / d w_p *)
Lemma excl_coeff_continuous (m p : nat) (a r : expr) :
  exclusive_param_with net p m a r ->
  continuous_at (n_params net) (fun v => excl_coeff net v m a) w.
Proof.
  intros He.
  apply (continuous_at_ext _ (fun v => eval (n_input net) v (zvec net v) (dparam p (tau net m)))).
  - intros v; symmetry; apply (exclusive_dparam_coeff net p m a r v Hwf He).
  - apply (eval_zvec_continuous net w Hwf), params_below_dparam, (tau_params_below net Hwf).
    exact (proj1 (proj2 He)).
Qed.

(* arbitrarily close to w, every kink neuron of w is strictly on its chosen side *)
Lemma reach_good_perturbable (m : nat) : (m <= n_size net)%nat -> forall eps, 0 < eps ->
  exists h, supported (n_params net) h /\ norm_max (n_params net) h < eps /\
    forall j, (j < m)%nat -> In j (kink_neurons net w) -> good net w b j (preact net (vadd w h) j).
Proof.
  induction m as [|m IH]; intros Hm eps He.
  - exists vzero; split; [apply supported_vzero|]; split; [rewrite norm_max_vzero; exact He|].
    intros; lia.
  - destruct (in_dec Nat.eq_dec m (kink_neurons net w)) as [Hkm|Hkm].
    2:{ destruct (IH ltac:(lia) eps He) as [h [Hs [Hn Hg]]]; exists h; split; [exact Hs|].
        split; [exact Hn|]; intros j Hj Hjk.
        destruct (Nat.eq_dec j m) as [->|]; [contradiction | apply Hg; [lia | exact Hjk]]. }
    destruct (Hpert m Hkm) as [p [a [r [Hex Ha]]]].
    assert (Hal : 0 < Rabs (excl_coeff net w m a)) by (apply Rabs_pos_lt; exact Ha).
    assert (Hep : 0 < eps * Rabs (excl_coeff net w m a)) by (apply Rmult_lt_0_compat; assumption).
    set (eta := eps * Rabs (excl_coeff net w m a) / 8).
    assert (Heta : 0 < eta) by (unfold eta; lra).
    destruct (good_near_side net w b m) as [d [Hd Hgood]].
    destruct (preact_continuous net Hwf w m ltac:(lia) eta Heta) as [d1 [Hd1 K1]].
    destruct (excl_coeff_continuous m p a r Hex (Rabs (excl_coeff net w m a) / 2) ltac:(lra))
      as [d2 [Hd2 K2]].
    destruct (IH ltac:(lia) (Rmin (eps / 2) (Rmin d1 d2)) ltac:(repeat apply Rmin_glb_lt; lra))
      as [h [Hs [Hn Hg]]].
    generalize (Rmin_l (eps / 2) (Rmin d1 d2)) (Rmin_r (eps / 2) (Rmin d1 d2))
      (Rmin_l d1 d2) (Rmin_r d1 d2); intros Hn1 Hn2 Hn3 Hn4.
    assert (Hp : (p < n_params net)%nat) by apply Hex.
    set (rho := Rmin (d / 2) eta).
    assert (Hrho : 0 < rho <= eta /\ rho < d).
    { unfold rho; generalize (Rmin_l (d / 2) eta) (Rmin_r (d / 2) eta); intros.
      repeat split; try lra; apply Rmin_glb_lt; lra. }
    set (v := vadd w h).
    assert (Hbe : Rabs (excl_coeff net w m a) / 2 < Rabs (excl_coeff net v m a)).
    { specialize (K2 h Hs ltac:(lra)); unfold v; revert K2; split_Rabs; lra. }
    assert (Hbe0 : excl_coeff net v m a <> 0) by (intros H; rewrite H, Rabs_R0 in Hbe; lra).
    assert (Hy : Rabs (preact net v m - preact net w m) < eta) by (apply K1; [exact Hs | lra]).
    set (target := preact net w m + (if b m then rho else - rho)).
    set (delta := (target - preact net v m) / excl_coeff net v m a).
    assert (HN : Rabs (target - preact net v m) <= 2 * eta)
      by (unfold target; destruct (b m); revert Hy; split_Rabs; lra).
    assert (Hdelta : Rabs delta <= eps / 2).
    { unfold delta, Rdiv; rewrite Rabs_mult, Rabs_inv.
      apply (Rmult_le_reg_r (Rabs (excl_coeff net v m a))); [lra|].
      rewrite Rmult_assoc, Rinv_l, Rmult_1_r by lra.
      unfold eta in HN; nra. }
    exists (vadd h (vscale delta (unit_vec p))); split; [|split].
    + apply supported_vadd; [exact Hs | apply supported_vscale, supported_unit_vec, Hp].
    + eapply Rle_lt_trans; [apply norm_max_triangle|].
      rewrite norm_max_scale_unit by exact Hp; lra.
    + assert (Hv : forall i, vadd w (vadd h (vscale delta (unit_vec p))) i = upd v p (v p + delta) i).
      { intros i; rewrite <- vadd_scale_unit_pointwise; unfold v, vadd; ring. }
      intros j Hj Hjk; rewrite (preact_ext net _ _ j Hv).
      destruct (Nat.eq_dec j m) as [->|Hjm].
      * rewrite (exclusive_param_preact_affine net p m a r v (v p + delta) Hex).
        assert (Hrest := exclusive_param_preact_rest net p m a r v Hex).
        replace (excl_coeff net v m a * (v p + delta) + eval (n_input net) v (zvals net v m) r)
          with target.
        -- apply Hgood; lra.
        -- unfold delta; field_simplify; [|exact Hbe0]. rewrite Hrest; field.
      * rewrite (preact_upd_below net p m a r v _ j Hex) by lia.
        apply Hg; [lia | exact Hjk].
Qed.

(* near w, the neurons off a kink at w stay off the kinks *)
Lemma no_new_kinks :
  exists delta, 0 < delta /\ forall h, supported (n_params net) h -> norm_max (n_params net) h < delta ->
    forall j, (j < n_size net)%nat -> ~ In j (kink_neurons net w) ->
      ~ is_kink (sigma net j) (preact net (vadd w h) j).
Proof.
  assert (H : forall n, (n <= n_size net)%nat -> exists rho, 0 < rho /\
            forall j, (j < n)%nat -> ~ In j (kink_neurons net w) ->
              forall y, Rabs (y - preact net w j) < rho -> ~ is_kink (sigma net j) y).
  { induction n as [|m IH]; intros Hm.
    - exists 1; split; [lra | intros; lia].
    - destruct IH as [r1 [Hr1 K1]]; [lia|].
      destruct (in_dec Nat.eq_dec m (kink_neurons net w)) as [Hin|Hnin].
      + exists r1; split; [exact Hr1|]; intros j Hj Hjk.
        destruct (Nat.eq_dec j m) as [->|]; [contradiction | apply K1; [lia | exact Hjk]].
      + assert (Hnk : ~ is_kink (sigma net m) (preact net w m))
          by (intros Hk; apply Hnin, kink_neurons_spec; split; [lia | exact Hk]).
        destruct (not_kink_near _ _ Hnk) as [r2 [Hr2 K2]].
        exists (Rmin r1 r2); split; [apply Rmin_glb_lt; assumption|].
        intros j Hj Hjk y Hy; generalize (Rmin_l r1 r2) (Rmin_r r1 r2); intros.
        destruct (Nat.eq_dec j m) as [->|]; [apply K2; lra | apply K1; [lia | exact Hjk | lra]]. }
  destruct (H (n_size net) ltac:(lia)) as [rho [Hrho K]].
  destruct (preacts_close net Hwf w rho Hrho) as [delta [Hd Kd]].
  exists delta; split; [exact Hd|]; intros h Hs Hh j Hj Hjk.
  apply K; [exact Hj | exact Hjk | apply Kd; assumption].
Qed.

(* the slopes of the vertex at the kink neurons of w, AD's slopes elsewhere *)
Definition vertex_slopes (v : vec) (j : nat) : R :=
  if in_dec Nat.eq_dec j (kink_neurons net w)
  then dpiece (sigma net j) (vertex_pattern net w b j) (preact net v j)
  else dchoice net (fun _ => 0) v j.

Lemma vertex_slopes_continuous (j : nat) :
  (j < n_size net)%nat -> continuous_at (n_params net) (fun v => vertex_slopes v j) w.
Proof.
  intros Hj; unfold vertex_slopes; destruct (in_dec Nat.eq_dec j (kink_neurons net w)) as [Hin|Hnin].
  - apply (continuous_at_comp _ (dpiece (sigma net j) (vertex_pattern net w b j))
             (fun v => preact net v j)).
    + apply continuity_pt_filterlim, dpiece_cont.
    + apply preact_continuous; assumption.
  - unfold dchoice; apply (continuous_at_comp _ (act_deriv_choice (sigma net j) 0)
                             (fun v => preact net v j)).
    + apply deriv_choice_continuous_not_kink; intros Hk; apply Hnin, kink_neurons_spec; split; assumption.
    + apply preact_continuous; assumption.
Qed.

Lemma vertex_slopes_at_w (p : nat) : grad_sl net (vertex_slopes w) w p = vertex_grad net w b p.
Proof.
  unfold vertex_grad; apply grad_compare; intros j Hj; left.
  unfold vertex_slopes; destruct (in_dec Nat.eq_dec j (kink_neurons net w)) as [Hin|Hnin].
  - unfold piece_slopes; rewrite (select_preact net _ w (vertex_pattern_compatible net w b) j Hj).
    reflexivity.
  - symmetry; apply (piece_slopes_compare net _ w (vertex_pattern_compatible net w b) _ j Hj).
    intros Hk; apply Hnin, kink_neurons_spec; split; assumption.
Qed.

(* where the kink neurons of w are good and the others off the kinks, f is
   differentiable with gradient the propagation with the vertex slopes *)
Lemma good_point_differentiable (v : vec) :
  (forall j, (j < n_size net)%nat -> In j (kink_neurons net w) -> good net w b j (preact net v j)) ->
  (forall j, (j < n_size net)%nat -> ~ In j (kink_neurons net w) -> ~ is_kink (sigma net j) (preact net v j)) ->
  differentiable_at (n_params net) (net_eval net) v (grad_sl net (vertex_slopes v) v).
Proof.
  intros Hg Hn.
  assert (Hk : forall j, (j < n_size net)%nat -> ~ is_kink (sigma net j) (preact net v j)).
  { intros j Hj; destruct (in_dec Nat.eq_dec j (kink_neurons net w)) as [Hin|Hnin];
      [apply (good_not_kink j _ 0 (Hg j Hj Hin)) | apply Hn; assumption]. }
  assert (Hns : ~ NS net (fun _ => 0) v).
  { intros [k [Hkk _]]; apply kink_neurons_spec in Hkk as [Hk1 Hk2]; exact (Hk k Hk1 Hk2). }
  eapply differentiable_at_grad_ext; [|apply (T5b_not_NS_differentiable net _ v Hwf Hns)].
  intros p _; unfold ad; apply grad_compare; intros j Hj; left.
  unfold vertex_slopes; destruct (in_dec Nat.eq_dec j (kink_neurons net w)) as [Hin|Hnin];
    [|reflexivity].
  unfold dchoice; apply (good_not_kink j _ 0 (Hg j Hj Hin)).
Qed.

(* each vertex gradient is a limit of gradients of f at nearby points *)
Theorem vertex_grad_clarke_limit_perturbable : clarke_limit net w (vertex_grad net w b).
Proof.
  destruct no_new_kinks as [d0 [Hd0 K0]].
  assert (Hseq : forall n : nat, exists h, supported (n_params net) h /\
            norm_max (n_params net) h < Rmin (/ INR (S n)) d0 /\
            forall j, (j < n_size net)%nat -> In j (kink_neurons net w) ->
              good net w b j (preact net (vadd w h) j)).
  { intros n; apply reach_good_perturbable; [lia|].
    apply Rmin_glb_lt; [apply Rinv_0_lt_compat, lt_0_INR; lia | exact Hd0]. }
  set (hs := fun n => proj1_sig (constructive_indefinite_description _ (Hseq n))).
  assert (Hhs : forall n, supported (n_params net) (hs n) /\
            norm_max (n_params net) (hs n) < Rmin (/ INR (S n)) d0 /\
            forall j, (j < n_size net)%nat -> In j (kink_neurons net w) ->
              good net w b j (preact net (vadd w (hs n)) j))
    by (intros n; exact (proj2_sig (constructive_indefinite_description _ (Hseq n)))).
  assert (Hsmall : forall n, norm_max (n_params net) (hs n) < / INR (S n) /\
                             norm_max (n_params net) (hs n) < d0).
  { intros n; destruct (Hhs n) as [_ [Hn _]].
    generalize (Rmin_l (/ INR (S n)) d0) (Rmin_r (/ INR (S n)) d0); intros; split; lra. }
  exists (fun n => vadd w (hs n)), (fun n => grad_sl net (vertex_slopes (vadd w (hs n))) (vadd w (hs n))).
  split; [|split].
  - intros eps He; destruct (inv_S_small eps He) as [N HN]; exists N; intros n Hn.
    rewrite (norm_max_ext _ _ (hs n)) by (intros i _; unfold vadd; ring).
    eapply Rlt_trans; [apply (proj1 (Hsmall n)) | apply HN, Hn].
  - intros n; apply good_point_differentiable; [apply Hhs|].
    intros j Hj Hjk; apply K0; [apply Hhs | apply (proj2 (Hsmall n)) | exact Hj | exact Hjk].
  - intros p Hp eps He.
    destruct (grad_sl_continuous net w Hwf vertex_slopes vertex_slopes_continuous p eps He)
      as [d [Hd K]].
    destruct (inv_S_small d Hd) as [N HN]; exists N; intros n Hn.
    rewrite <- vertex_slopes_at_w; apply K;
      [apply Hhs | eapply Rlt_trans; [apply (proj1 (Hsmall n)) | apply HN, Hn]].
Qed.

End RealisePerturbable.

(** ** T4 for networks whose kink neurons are perturbable *)

(* THEORY.md T5(c), second half: if every kink neuron at w is perturbable at w
   (it has an exclusive parameter with non-zero coefficient at w) and the
   choices lie between the one-sided slopes, AD_D f(w) is in the Clarke
   subdifferential.  Bias networks are the case where every neuron is
   perturbable everywhere (T4_ad_in_clarke). *)
Theorem T5c_ad_in_clarke_perturbable (net : network) (D : nat -> R) (w : vec) :
  wf net ->
  (forall k, In k (kink_neurons net w) -> perturbable net w k) ->
  (forall k, In k (kink_neurons net w) ->
     Rmin (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))
       <= D k <=
     Rmax (slope_left (sigma net k) (preact net w k)) (slope_right (sigma net k) (preact net w k))) ->
  in_clarke net w (ad net D w).
Proof.
  intros Hwf Hp HD.
  apply ad_in_clarke_of_vertex_limits; [exact HD|].
  intros b; now apply vertex_grad_clarke_limit_perturbable.
Qed.
